create or replace function concierto.upload_scans(scans jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('upload scans');
  problem text;
  answers jsonb[];
  s record;
  answer jsonb;
begin
  if jsonb_typeof(upload_scans.scans) is distinct from 'array' or jsonb_array_length(upload_scans.scans) not between 1 and 500 then
    raise exception using errcode = '22023',
      message = 'scans must be a JSON array of 1 to 500 {"ticket_id", "version", "event_id", "gate", "scanned_at", "nonce"}';
  end if;
  select format('scans[%s]: %s', x.idx - 1, case
      when jsonb_typeof(x.scan) <> 'object' then 'must be an object'
      when treasury_private.as_uuid(x.scan ->> 'ticket_id') is null then 'ticket_id must be a UUID'
      when treasury_private.json_bigint(x.scan -> 'version') is null
           or treasury_private.json_bigint(x.scan -> 'version') not between 1 and 2147483647 then
        'version must be an integer >= 1'
      when treasury_private.as_uuid(x.scan ->> 'event_id') is null then 'event_id must be a UUID'
      when jsonb_typeof(x.scan -> 'gate') is distinct from 'string' then 'gate must be a string of 1 to 100 characters'
      when jsonb_typeof(x.scan -> 'scanned_at') is distinct from 'string'
           or passport_private.parse_rfc3339(x.scan ->> 'scanned_at') is null then 'scanned_at must be an RFC 3339 timestamp'
      when jsonb_typeof(x.scan -> 'nonce') is distinct from 'string' then 'nonce must be a string of 1 to 200 characters'
      else concierto_private.scan_problem(x.scan ->> 'gate', passport_private.parse_rfc3339(x.scan ->> 'scanned_at'),
                                          x.scan ->> 'nonce', true)
    end)
  into problem
  from jsonb_array_elements(upload_scans.scans) with ordinality as x(scan, idx)
  where jsonb_typeof(x.scan) <> 'object'
     or treasury_private.as_uuid(x.scan ->> 'ticket_id') is null
     or treasury_private.json_bigint(x.scan -> 'version') is null
     or treasury_private.json_bigint(x.scan -> 'version') not between 1 and 2147483647
     or treasury_private.as_uuid(x.scan ->> 'event_id') is null
     or jsonb_typeof(x.scan -> 'gate') is distinct from 'string'
     or jsonb_typeof(x.scan -> 'scanned_at') is distinct from 'string'
     or passport_private.parse_rfc3339(x.scan ->> 'scanned_at') is null
     or jsonb_typeof(x.scan -> 'nonce') is distinct from 'string'
     or concierto_private.scan_problem(x.scan ->> 'gate', passport_private.parse_rfc3339(x.scan ->> 'scanned_at'),
                                       x.scan ->> 'nonce', true) is not null
  order by x.idx
  limit 1;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;

  -- Every event named must be one the caller works, before anything is applied.
  perform concierto_private.door_event(e.id, me)
  from (select distinct (x.scan ->> 'event_id')::uuid as id from jsonb_array_elements(upload_scans.scans) as x(scan)) as e;

  -- Applied in ticket order (then scan time), so uploads that share tickets
  -- lock them in one order and never deadlock, and the earliest scan of a
  -- ticket is the one admitted; answered in the order sent.
  answers := array_fill(null::jsonb, array[jsonb_array_length(upload_scans.scans)]);
  for s in
    select x.idx, (x.scan ->> 'ticket_id')::uuid as ticket_id, (x.scan ->> 'version')::int as version,
           (x.scan ->> 'event_id')::uuid as event_id, x.scan ->> 'gate' as gate,
           passport_private.parse_rfc3339(x.scan ->> 'scanned_at') as scanned_at, x.scan ->> 'nonce' as nonce
    from jsonb_array_elements(upload_scans.scans) with ordinality as x(scan, idx)
    order by 2, 6, 7
  loop
    answer := concierto_private.scan(me, s.ticket_id, s.version, s.event_id, s.gate, s.scanned_at, s.nonce);
    answers[s.idx::int] := jsonb_build_object('nonce', s.nonce, 'ticket_id', s.ticket_id) || answer;
  end loop;

  return jsonb_build_object(
    'results', to_jsonb(answers),
    'admitted', (select count(*) from unnest(answers) as a where a ->> 'status' = 'admitted'),
    'already_admitted', (select count(*) from unnest(answers) as a where a ->> 'status' = 'already_admitted'),
    'refused', (select count(*) from unnest(answers) as a where a ->> 'status' = 'refused'));
end
$$;

comment on function concierto.upload_scans(jsonb) is
  'Applies the scans an offline door queued ([{"ticket_id", "version", "event_id", "gate", "scanned_at", '
  '"nonce"}], 1..500): {"results": [{"nonce", "ticket_id", "status", ...} in the order sent], "admitted", '
  '"already_admitted" (conflicts: the ticket was admitted by another scan, whose time and gate are given), '
  '"refused"}. A scan is refused when it cannot have happened when it says (the codes of concierto.redeem).  Idempotent by nonce: a replay answers exactly as the first upload. For the staff of every event '
  'named (42501); 22023 names the first malformed scan.';

grant execute on function concierto.upload_scans(jsonb) to authenticated;
