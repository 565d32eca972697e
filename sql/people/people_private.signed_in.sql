-- The signed-in user, or 42501 naming what needs one (service_role has no user of its own).
create or replace function people_private.signed_in(what text)
returns uuid
language plpgsql
stable
as $$
declare
  me uuid := auth.uid();
begin
  if me is null then
    raise exception using errcode = '42501', message = format('sign in to %s', what);
  end if;
  return me;
end
$$;
