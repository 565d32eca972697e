create or replace function treasury_private.require_staff(what text)
returns void
language plpgsql
stable
as $$
begin
  if not treasury_private.caller_is_staff() then
    raise exception using
      errcode = '42501',
      message = format('%s is for Treasury admins', what),
      hint = 'An admin is a row of treasury.admins, set by service_role.';
  end if;
end
$$;
