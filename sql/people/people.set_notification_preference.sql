-- The signed-in user turns a kind on or off (null: back to the kind's default). Notifications already in
-- the inbox stay; only new ones follow the choice. Returns whether the kind is now on for them.
create or replace function people.set_notification_preference(kind text, enabled boolean)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  me uuid := concierto_private.signed_in('change your notification settings');
  now_on boolean;
begin
  select k.default_enabled into now_on from people.notification_kinds as k where k.kind = set_notification_preference.kind;
  if not found then
    raise exception using errcode = '22023',
      message = format('unknown notification kind %L', set_notification_preference.kind),
      hint = 'people.notification_settings() lists the kinds.';
  end if;
  if set_notification_preference.enabled is null then
    delete from people.notification_preferences as p
    where p.user_id = me and p.kind = set_notification_preference.kind;
    return now_on;
  end if;
  insert into people.notification_preferences as p (user_id, kind, enabled)
  values (me, set_notification_preference.kind, set_notification_preference.enabled)
  on conflict (user_id, kind) do update set enabled = excluded.enabled, updated_at = now();
  return set_notification_preference.enabled;
end
$$;

comment on function people.set_notification_preference(text, boolean) is
  'The signed-in user turns a notification kind on or off (null: back to the kind''s default). Returns whether '
  'the kind is now on for them. 22023 unknown kind; 42501 without a signed-in user.';

grant execute on function people.set_notification_preference(text, boolean) to authenticated;
