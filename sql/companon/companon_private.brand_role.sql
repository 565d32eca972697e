-- How the caller may act on a brand: 'platform' (a privileged role), their
-- member role ('owner', 'manager', 'viewer'), 'admin' (a Treasury admin who
-- is no member), or null when the brand does not exist or is not theirs to
-- see; the caller turns null into its own P0002. A caller who is neither
-- privileged nor signed in gets 42501, saying what needs a sign-in.
create or replace function companon_private.brand_role(brand_id uuid, what text)
returns text
language plpgsql
stable
as $$
declare
  me uuid;
  r text;
begin
  if companon_private.caller_is_privileged() then
    return case when exists (select 1 from companon.brands as b where b.id = brand_role.brand_id) then 'platform' end;
  end if;
  me := auth.uid();
  if me is null then
    raise exception using
      errcode = '42501',
      message = format('sign in to %s', what),
      hint = 'Call with a user''s access token.';
  end if;
  select m.role into r from companon.brand_members as m where m.brand_id = brand_role.brand_id and m.user_id = me;
  if r is null and treasury.is_admin() and exists (select 1 from companon.brands as b where b.id = brand_role.brand_id) then
    r := 'admin';
  end if;
  return r;
end
$$;
