-- Managing the badge catalogue is for admins (people.has_role) and the
-- platform's privileged roles (service_role, the owner).
create or replace function people_private.require_badge_admin()
returns void
language plpgsql
stable
as $$
begin
  if not (people.has_role('admin') or passport_private.caller_is_privileged('people.badges')) then
    raise exception using errcode = '42501', message = 'managing badges is for admins';
  end if;
end
$$;

comment on function people_private.require_badge_admin() is
  'Raises 42501 unless the caller is an admin (people.has_role) or a privileged role.';
