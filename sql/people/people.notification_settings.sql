create or replace function people.notification_settings()
returns table (kind text, description text, enabled boolean, default_enabled boolean)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('read your notification settings');
begin
  return query
  select k.kind, k.description, coalesce(p.enabled, k.default_enabled), k.default_enabled
  from people.notification_kinds as k
  left join people.notification_preferences as p on p.user_id = me and p.kind = k.kind
  order by k.kind;
end
$$;

comment on function people.notification_settings() is
  'Every notification kind with its description and whether the signed-in user gets it (their choice, else '
  'the kind''s default). 42501 without a signed-in user.';

grant execute on function people.notification_settings() to authenticated;
