-- The batch writer behind POST /functions/v1/passport-log.
--
-- events: a JSON array (at most 500) of normalized events
--   {"user_id", "source", "kind", "client_event_id", "occurred_at" (RFC 3339,
--    default now), "artist_id" (uuid or null), "payload" (object, default {})}
-- or events the edge already refused
--   {"rejected": {"code", "message"}, "user_id"?, "source"?, "kind"?, "client_event_id"?}.
-- Returns one result per event, in order:
--   {"status":"accepted","id":n} | {"status":"duplicate","id":<first stored id>}
--   | {"status":"rejected","code":..,"message":..}
--
-- The database re-checks every event (it is authoritative). An event under an
-- alias of a kind (passport.event_kind_aliases) is restated as that kind
-- first, stored as it, and counted in passport.alias_use; a rejection keeps
-- the kind as sent. Accepted events are stored by one INSERT in key order;
-- ON CONFLICT DO NOTHING makes a client_event_id seen before (in this batch,
-- an earlier call, or a concurrent one, which the INSERT waits for) a
-- duplicate. Those ids are read by a second statement: under READ COMMITTED
-- it sees rows that concurrent transactions committed while the INSERT
-- waited. Every rejection is counted in passport.rejection_tallies in the
-- same transaction, and the first few of a user in a minute are also rows of
-- passport.rejections (passport_private.record_rejections).
--
-- A caller other than the service role (a signed-in user) first takes one
-- request and one event per element from their buckets
-- (passport_private.admit_user, passport.limits): over the limit the call
-- fails with PT429, the seconds to wait in DETAIL, and stores nothing.
create or replace function passport.ingest(events jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  results jsonb;
  alias_uses jsonb;
  refusals jsonb;
begin
  if jsonb_typeof(events) is distinct from 'array' then
    raise exception using
      errcode = '22023',
      message = 'passport.ingest expects a JSON array of events',
      hint = 'Pass [{"user_id": ..., "source": ..., "kind": ..., "client_event_id": ..., "payload": {...}}, ...].';
  end if;
  if jsonb_array_length(events) > 500 then
    raise exception using
      errcode = '54000',
      message = format('passport.ingest takes at most 500 events per call, got %s', jsonb_array_length(events)),
      hint = 'Split the batch.';
  end if;
  -- passport-log runs this as the signed-in user (set local role authenticated, the user's claims),
  -- as the app's RPC would: a user logs only their own events, from the app. Naming another user or
  -- a server-side source is the service role's.
  if current_setting('role', true) = 'authenticated' and exists (
    select 1
    from jsonb_array_elements(events) as e(event)
    where jsonb_typeof(e.event) is distinct from 'object'
       or lower(e.event ->> 'user_id') is distinct from auth.uid()::text
       or e.event ->> 'source' is distinct from 'app'
  ) then
    raise exception using
      errcode = '42501',
      message = 'a signed-in user logs only their own events, with source "app"',
      hint = 'Give every event "user_id": the caller''s id and "source": "app", or call as the service role.';
  end if;
  -- The rate limits, in this transaction: the user's row stays locked until it ends, so the limit
  -- holds across any number of function instances. The service role's own work is not limited.
  if not passport_private.caller_is_privileged('public.passport_entries') then
    if auth.uid() is null then
      raise exception using
        errcode = '42501',
        message = 'passport.ingest needs a signed-in user or the service role',
        hint = 'Call with a user''s access token (request.jwt.claims with sub) or as the service role.';
    end if;
    perform passport_private.admit_user(auth.uid(), jsonb_array_length(events)::integer);
  end if;

  -- parsed is materialized so that each event is read once. JSON null counts
  -- as absent, as it does at the edge. An event under an alias
  -- (passport.event_kind_aliases) becomes its kind, with the payload keys
  -- moved to their fields; restate runs for those events only.
  with read as (
    select
      e.idx,
      e.event,
      nullif(e.event -> 'rejected', 'null'::jsonb) as pre,
      case when jsonb_typeof(e.event -> 'user_id') = 'string' and passport_private.is_uuid(e.event ->> 'user_id')
        then (e.event ->> 'user_id')::uuid end as user_id,
      case when jsonb_typeof(e.event -> 'source') = 'string' then e.event ->> 'source' end as source,
      case when jsonb_typeof(e.event -> 'kind') = 'string' then e.event ->> 'kind' end as kind_sent,
      case when jsonb_typeof(e.event -> 'client_event_id') = 'string' then e.event ->> 'client_event_id' end as client_event_id,
      case
        when coalesce(jsonb_typeof(e.event -> 'occurred_at'), 'null') = 'null' then now()
        when jsonb_typeof(e.event -> 'occurred_at') = 'string' then passport_private.parse_rfc3339(e.event ->> 'occurred_at')
      end as occurred_at,
      nullif(e.event -> 'artist_id', 'null'::jsonb) as artist_sent,
      coalesce(nullif(e.event -> 'payload', 'null'::jsonb), '{}'::jsonb) as payload_sent
    from jsonb_array_elements(events) with ordinality as e(event, idx)
  ),
  restated as (
    select
      r.*,
      a.alias,
      coalesce(a.kind, r.kind_sent) as kind,
      case when a.alias is not null then passport_private.restate(a.renames, r.artist_sent, r.payload_sent) end as moved
    from read as r
    left join passport.event_kind_aliases as a on a.alias = r.kind_sent
    offset 0 -- restate once per event, not once per use of moved
  ),
  parsed as materialized (
    select
      x.*,
      case when jsonb_typeof(x.artist_json) = 'string' and passport_private.is_uuid(x.artist_json #>> '{}')
        then (x.artist_json #>> '{}')::uuid end as artist_id
    from (
      select
        r.idx, r.event, r.pre, r.user_id, r.source, r.kind_sent, r.client_event_id, r.occurred_at, r.alias, r.kind,
        r.moved ->> 'artist_from' as artist_from,
        case when r.moved ? 'artist' then r.moved -> 'artist' else r.artist_sent end as artist_json,
        coalesce(r.moved -> 'payload', r.payload_sent) as payload
      from restated as r
    ) as x
  ),
  -- What is wrong with the envelope, as [code, message], in the order and the
  -- words of the edge (edge/src/passport_log.rs), which refuses such events
  -- before they get here; only direct callers meet these.
  shaped as (
    select
      p.*,
      case
        when p.pre is not null then
          array[coalesce(p.pre ->> 'code', 'invalid_event'), coalesce(p.pre ->> 'message', 'refused before passport.ingest')]
        when jsonb_typeof(p.event) <> 'object' then
          array['invalid_event', 'an event must be a JSON object']
        when p.event - array['user_id', 'source', 'kind', 'client_event_id', 'occurred_at', 'artist_id', 'payload'] <> '{}' then
          array['unknown_field', (
            select min(k collate "C") || ' is not an event field'
            from jsonb_object_keys(p.event - array['user_id', 'source', 'kind', 'client_event_id', 'occurred_at', 'artist_id', 'payload']) as k)]
        when coalesce(jsonb_typeof(p.event -> 'user_id'), 'null') = 'null' then
          array['missing_field', 'user_id is required']
        when p.user_id is null then
          array['invalid_field', 'user_id must be a UUID']
        when coalesce(jsonb_typeof(p.event -> 'source'), 'null') = 'null' then
          array['missing_field', 'source is required']
        when p.source is null or p.source not in ('app', 'treasury', 'concierto', 'companon', 'system') then
          array['invalid_field', 'source must be one of app, treasury, concierto, companon, system']
        when coalesce(jsonb_typeof(p.event -> 'kind'), 'null') = 'null' then
          array['missing_field', 'kind is required']
        when p.kind is null then
          array['invalid_field', 'kind must be a string']
        when coalesce(jsonb_typeof(p.event -> 'client_event_id'), 'null') = 'null' then
          array['missing_field', 'client_event_id is required']
        when p.client_event_id is null or char_length(p.client_event_id) not between 1 and 200 then
          array['invalid_field', 'client_event_id must be a string of 1 to 200 characters']
        when p.occurred_at is null then
          array['invalid_field', 'occurred_at must be an RFC 3339 timestamp']
        -- The envelope's artist_id, or (under an alias) the payload key that stood for it.
        when p.artist_id is null and p.artist_json is not null then
          array['invalid_field', coalesce(p.artist_from, 'artist_id') || ' must be a UUID']
      end as problem
    from parsed as p
  ),
  checked as (
    select
      s.idx, s.user_id, s.source, s.kind_sent, s.alias, s.kind, s.client_event_id, s.artist_id, s.payload, s.occurred_at,
      coalesce(s.problem[1], c.code) as code,
      coalesce(s.problem[2], c.message) as message
    from shaped as s
    cross join lateral passport.check_event(s.kind, s.source, s.artist_id, s.payload, s.occurred_at, now()) as c
  ),
  inserted as (
    insert into public.passport_entries (user_id, kind, artist_id, payload, occurred_at, client_event_id, source)
    select c.user_id, c.kind, c.artist_id, c.payload, c.occurred_at, c.client_event_id, c.source
    from checked as c
    where c.code is null
    -- Key order, not input order: concurrent batches then take their
    -- speculative-insert locks on passport_private.entry_keys in one global
    -- order and cannot deadlock; idx keeps the first occurrence of a key
    -- within the batch the one stored. A row whose key is stored already is
    -- skipped by the trigger passport_entries_exactly_once.
    order by c.user_id, c.client_event_id, c.idx
    returning id, user_id, client_event_id
  ),
  ranked as (
    select
      c.*,
      c.idx = min(c.idx) over (partition by c.code is null, c.user_id, c.client_event_id) as first_of_key
    from checked as c
  ),
  -- The ids this INSERT stored, by key: a lookup that does not depend on the
  -- planner guessing how many rows a CTE holds.
  stored as (
    select jsonb_object_agg(i.user_id::text || '/' || i.client_event_id, i.id) as ids
    from inserted as i
  ),
  answered as (
    select r.*, s.ids -> (r.user_id::text || '/' || r.client_event_id) as stored_id
    from ranked as r
    cross join stored as s
  )
  select
    jsonb_agg(
      case
        when a.code is not null then jsonb_build_object('status', 'rejected', 'code', a.code, 'message', a.message)
        when a.stored_id is null then jsonb_build_object('status', 'pending', 'user_id', a.user_id, 'client_event_id', a.client_event_id)
        when a.first_of_key then jsonb_build_object('status', 'accepted', 'id', a.stored_id)
        else jsonb_build_object('status', 'duplicate', 'id', a.stored_id)
      end
      order by a.idx),
    (select jsonb_agg(u) from (
       select x.alias, x.source, count(*) as received,
              count(*) filter (where x.code is null and x.first_of_key and x.stored_id is not null) as stored
       from answered as x
       where x.alias is not null and x.source in ('app', 'treasury', 'concierto', 'companon', 'system')
       group by x.alias, x.source) as u),
    (select jsonb_agg(jsonb_build_object('user_id', c.user_id, 'source', c.source, 'kind', c.kind_sent,
                                         'client_event_id', c.client_event_id, 'code', c.code, 'message', c.message)
                      order by c.idx)
     from checked as c
     where c.code is not null)
  into results, alias_uses, refusals
  from answered as a;

  -- Events whose client_event_id was stored before this INSERT ran.
  if results @> '[{"status": "pending"}]' then
    select jsonb_agg(
      case when r.result ->> 'status' = 'pending'
        then jsonb_build_object('status', 'duplicate', 'id', e.entry_id)
        else r.result
      end
      order by r.idx)
    into results
    from jsonb_array_elements(results) with ordinality as r(result, idx)
    left join passport_private.entry_keys as e
      on r.result ->> 'status' = 'pending'
     and e.user_id = (r.result ->> 'user_id')::uuid
     and e.client_event_id = r.result ->> 'client_event_id';
  end if;

  -- In one order, so that concurrent batches lock the counters without deadlock.
  perform passport_private.count_alias_use(u.alias, u.source, u.received, u.stored)
  from jsonb_to_recordset(alias_uses) as u(alias text, source text, received bigint, stored bigint)
  order by u.alias, u.source;

  perform passport_private.record_rejections(refusals);

  return coalesce(results, '[]'::jsonb);
end
$$;

comment on function passport.ingest(jsonb) is
  'Stores a batch of normalized events (at most 500); returns accepted/duplicate/rejected per event in order.';

grant execute on function passport.ingest(jsonb) to authenticated, service_role;
