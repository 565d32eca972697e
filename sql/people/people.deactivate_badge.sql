-- Takes a badge off: nothing more is counted or awarded for it; its awards
-- stay (users keep what they earned) and so does its progress.
create or replace function people.deactivate_badge(code text)
returns people.badges
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  badge people.badges;
begin
  perform people_private.require_badge_admin();
  update people.badges as b set active = false where b.code = deactivate_badge.code returning * into badge;
  if not found then
    raise exception using errcode = 'P0002', message = format('unknown badge %s', coalesce(code, 'null'));
  end if;
  return badge;
end
$$;

comment on function people.deactivate_badge(text) is
  'Admins: stops evaluating a badge; awards and progress stay. P0002 for an unknown badge, 42501 for a caller who '
  'is no admin.';

grant execute on function people.deactivate_badge(text) to authenticated, service_role;
