-- The writer for server-side producers (Treasury, Concierto, triggers), to be
-- called inside their own transaction: the event commits or rolls back with
-- it. Same checks as ingest; an invalid event raises 22023 with the rejection
-- message and its code in DETAIL, and is therefore not recorded in
-- passport.rejections (the caller's transaction fails). A client_event_id
-- already stored for the user returns the stored id. An event under an alias
-- is stored as its kind and counted in passport.alias_use.
create or replace function passport.log(
  user_id uuid,
  kind text,
  client_event_id text,
  payload jsonb default '{}',
  artist_id uuid default null,
  occurred_at timestamptz default now(),
  source text default 'system'
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  problem record;
  entry_id bigint;
  aka passport.event_kind_aliases;
  moved jsonb;
begin
  -- The envelope first, in the order and the words of passport.ingest.
  select p[1] as code, p[2] as message into problem
  from (select case
    when log.user_id is null then array['missing_field', 'user_id is required']
    when log.source is null then array['missing_field', 'source is required']
    when log.source not in ('app', 'treasury', 'concierto', 'companon', 'system') then
      array['invalid_field', 'source must be one of app, treasury, concierto, companon, system']
    when log.kind is null then array['missing_field', 'kind is required']
    when log.client_event_id is null then array['missing_field', 'client_event_id is required']
    when char_length(log.client_event_id) not between 1 and 200 then
      array['invalid_field', 'client_event_id must be a string of 1 to 200 characters']
    when log.occurred_at is null then array['missing_field', 'occurred_at is required']
  end) as envelope(p);

  if problem.code is null then
    select * into problem
    from passport.check_event(log.kind, log.source, log.artist_id, coalesce(log.payload, '{}'), log.occurred_at, now());
  end if;
  if problem.code is not null then
    raise exception using
      errcode = '22023',
      message = problem.message,
      detail = problem.code,
      hint = 'passport.event_kinds lists the kinds, who may log them and their payload fields.';
  end if;

  -- An alias (check_event took it) is stored as its kind.
  select * into aka from passport.event_kind_aliases as a where a.alias = log.kind;
  if found then
    moved := passport_private.restate(aka.renames, to_jsonb(log.artist_id), coalesce(log.payload, '{}'));
    kind := aka.kind;
    payload := moved -> 'payload';
    artist_id := coalesce(log.artist_id, (moved ->> 'artist')::uuid);
  end if;

  insert into public.passport_entries as e (user_id, kind, artist_id, payload, occurred_at, client_event_id, source)
  values (log.user_id, log.kind, log.artist_id, coalesce(log.payload, '{}'), log.occurred_at, log.client_event_id, log.source)
  returning e.id into entry_id; -- null when the key is stored already (passport_entries_exactly_once)

  if aka.alias is not null then
    perform passport_private.count_alias_use(aka.alias, log.source, 1, (entry_id is not null)::int);
  end if;

  if entry_id is null then
    select k.entry_id into entry_id
    from passport_private.entry_keys as k
    where k.user_id = log.user_id and k.client_event_id = log.client_event_id;
  end if;
  return entry_id;
end
$$;

comment on function passport.log(uuid, text, text, jsonb, uuid, timestamptz, text) is
  'Logs one event inside the caller''s transaction; returns its id (the stored id on a duplicate). Raises 22023 on an invalid event.';

grant execute on function passport.log(uuid, text, text, jsonb, uuid, timestamptz, text) to service_role;
