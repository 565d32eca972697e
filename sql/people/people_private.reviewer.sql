-- Who may grant, revoke and review roles: an admin (people.has_role('admin'): treasury.admins), whose id is
-- returned, or the platform (service_role, a job: null). Anybody else gets 42501 naming what they tried.
create or replace function people_private.reviewer(what text)
returns uuid
language plpgsql
stable
as $$
begin
  if passport_private.caller_is_privileged('people.role_grants') then
    return auth.uid();
  end if;
  if auth.uid() is not null and people.has_role('admin') then
    return auth.uid();
  end if;
  raise exception using errcode = '42501', message = format('only an admin may %s', what);
end
$$;
