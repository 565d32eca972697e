-- buckets_core::passport::check_event in SQL: same rules, same order, same
-- codes, same messages. kind may be an alias: the event is then checked as
-- its kind after passport_private.restate, and a payload key standing for the
-- artist must hold a UUID (invalid_field, right after the kind). First
-- failure wins:
--   unknown_kind, forbidden_kind, artist_required, per declared field in
--   order missing_field / invalid_field, unknown_field (byte-wise smallest
--   undeclared key), occurred_in_future (> 5 minutes after received_at).
-- Checks that exist only here: invalid_field when payload is not a JSON object
-- (first; the edge refuses such events, in the same words, before it checks
-- the catalog); after occurred_in_future, the lower bounds of occurred_at,
-- which read operator settings in passport.limits: occurred_before_platform
-- (before platform_start, for every caller) and occurred_too_long_ago (more
-- than app_backdate_days before received_at, for callers other than the
-- service role; passport.ingest has already moved occurred_at by the
-- sender's clock error, so this is "long before the client's sent_at"); and
-- payload_too_large above 32768 bytes of JSON text (last).
-- Both out values are null when the event is valid. Security definer so that
-- callers need no grant on the passport_private helpers it uses.
create or replace function passport.check_event(
  kind text,
  source text,
  artist_id uuid,
  payload jsonb,
  occurred_at timestamptz default now(),
  received_at timestamptz default now(),
  out code text,
  out message text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  k passport.event_kinds;
  aka passport.event_kind_aliases;
  moved jsonb;
  field jsonb;
  value jsonb;
  declared text[] := '{}'::text[];
  undeclared text;
  l passport.limits;
begin
  if jsonb_typeof(payload) is distinct from 'object' then
    code := 'invalid_field';
    message := 'payload must be a JSON object';
    return;
  end if;

  select * into k from passport.event_kinds as e where e.name = check_event.kind;
  if not found then
    select * into aka from passport.event_kind_aliases as a where a.alias = check_event.kind;
    if not found then
      code := 'unknown_kind';
      message := format('unknown event kind "%s"', kind);
      return;
    end if;
    moved := passport_private.restate(aka.renames, to_jsonb(artist_id), payload);
    if moved ? 'artist' then
      if jsonb_typeof(moved -> 'artist') is distinct from 'string' or not passport_private.is_uuid(moved ->> 'artist') then
        code := 'invalid_field';
        message := (moved ->> 'artist_from') || ' must be a UUID';
        return;
      end if;
      artist_id := (moved ->> 'artist')::uuid;
    end if;
    payload := moved -> 'payload';
    select * into k from passport.event_kinds as e where e.name = aka.kind;
  end if;

  if not coalesce(source = any (k.producers), false) then
    code := 'forbidden_kind';
    message := format('%s is not accepted from source %s', k.name, source);
    return;
  end if;

  if k.needs_artist and artist_id is null then
    code := 'artist_required';
    message := format('%s needs artist_id', k.name);
    return;
  end if;

  -- Indexing the array keeps the loop free of SQL queries.
  for i in 0 .. jsonb_array_length(k.fields) - 1 loop
    field := k.fields -> i;
    declared := declared || (field ->> 'name');
    value := payload -> (field ->> 'name');
    if value is null then
      if (field ->> 'required')::boolean then
        code := 'missing_field';
        message := format('payload.%s is required for %s', field ->> 'name', k.name);
        return;
      end if;
    elsif not passport_private.value_fits(field ->> 'type', (field ->> 'min')::bigint, value) then
      code := 'invalid_field';
      message := format('payload.%s must be %s', field ->> 'name',
                        passport_private.expectation(field ->> 'type', (field ->> 'min')::bigint));
      return;
    end if;
  end loop;

  if payload - declared <> '{}'::jsonb then
    select min(key collate "C") into undeclared from jsonb_object_keys(payload - declared) as key;
    code := 'unknown_field';
    message := format('payload.%s is not a field of %s', undeclared, k.name);
    return;
  end if;

  if occurred_at > received_at + interval '5 minutes' then
    code := 'occurred_in_future';
    message := 'occurred_at is more than 5 minutes in the future';
    return;
  end if;

  select * into strict l from passport.limits;
  if occurred_at < l.platform_start then
    code := 'occurred_before_platform';
    message := format('occurred_at is before %s, when the platform started',
                      to_char(l.platform_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
    return;
  end if;
  -- A backfill by the service role may date events as far back as the platform.
  if occurred_at < received_at - make_interval(days => l.app_backdate_days)
     and not passport_private.caller_is_privileged('public.passport_entries') then
    code := 'occurred_too_long_ago';
    message := format('occurred_at is more than %s days before the event was sent', l.app_backdate_days);
    return;
  end if;

  if octet_length(payload::text) > 32768 then
    code := 'payload_too_large';
    message := 'payload is larger than 32768 bytes';
  end if;
end
$$;

comment on function passport.check_event(text, text, uuid, jsonb, timestamptz, timestamptz) is
  'The Passport catalog rules (same codes and messages as buckets_core). Returns (null, null) for a valid event.';

grant execute on function passport.check_event(text, text, uuid, jsonb, timestamptz, timestamptz)
  to anon, authenticated, service_role;
