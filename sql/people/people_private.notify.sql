-- How every system puts a notification in a user's inbox, inside its own
-- transaction: a notification exists exactly when what it tells committed.
-- The user's preference for the kind (else the kind's default) decides; a
-- retry with the same dedupe key is answered with nothing new.
create or replace function people_private.notify(
  user_id uuid,
  kind text,
  title text,
  body text default null,
  payload jsonb default '{}'::jsonb,
  dedupe_key text default null)
returns bigint
language plpgsql
volatile
as $$
#variable_conflict use_column
declare
  wanted boolean;
  new_id bigint;
begin
  if user_id is null then
    raise exception using errcode = '22023', message = 'a notification needs a user';
  end if;
  select coalesce(p.enabled, k.default_enabled) into wanted
  from people.notification_kinds as k
  left join people.notification_preferences as p on p.user_id = notify.user_id and p.kind = k.kind
  where k.kind = notify.kind;
  if not found then
    raise exception using
      errcode = '22023',
      message = format('unknown notification kind %L', kind),
      hint = 'The kinds are the rows of people.notification_kinds.';
  end if;
  if not wanted then
    return null;
  end if;
  insert into people.notifications as n (user_id, kind, title, body, payload, dedupe_key)
  values (notify.user_id, notify.kind, notify.title, notify.body, coalesce(notify.payload, '{}'::jsonb),
          notify.dedupe_key)
  on conflict (user_id, kind, dedupe_key) where dedupe_key is not null do nothing
  returning n.id into new_id;
  return new_id;
end
$$;

comment on function people_private.notify(uuid, text, text, text, jsonb, text) is
  'Puts a notification in a user''s inbox unless they turned its kind off (then null). The same '
  '(user, kind, dedupe_key) is notified once; the id of a new notification, else null. 22023 for no user or '
  'an unknown kind. Called by the systems inside their own transactions (security definer callers).';
