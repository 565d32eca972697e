-- Records the events passport.ingest refused: every one is counted in
-- passport.rejection_tallies (per user and minute, by code), and only the
-- first passport.limits.rejections_kept_per_minute of a user in a minute get a
-- row of passport.rejections, so a flood of bad events leaves bounded
-- evidence. `refusals` is a JSON array, in batch order, of
-- {"user_id", "source", "kind", "client_event_id", "code", "message"}
-- (user_id null when none was valid: counted under the nil UUID).
-- Users' tally rows are created or locked in one order, so concurrent batches
-- cannot deadlock on them; the rows kept are then written in batch order.
create or replace function passport_private.record_rejections(refusals jsonb)
returns void
language plpgsql
volatile
as $$
declare
  nil constant uuid := '00000000-0000-0000-0000-000000000000'::uuid;
  this_minute constant timestamptz := date_trunc('minute', now());
  cap integer;
  u record;
  kept_before integer;
  room integer;
  rooms jsonb := '{}'::jsonb;
begin
  if coalesce(jsonb_array_length(refusals), 0) = 0 then
    return;
  end if;
  select l.rejections_kept_per_minute into strict cap from passport.limits as l;

  for u in
    select c.who, sum(c.n)::integer as n, jsonb_object_agg(c.code, c.n) as codes
    from (
      select coalesce(r.user_id, nil) as who, r.code, count(*) as n
      from jsonb_to_recordset(refusals) as r(user_id uuid, code text)
      group by 1, 2
    ) as c
    group by c.who
    order by c.who
  loop
    insert into passport.rejection_tallies (user_id, minute, rejected, kept, codes)
    values (u.who, this_minute, u.n, least(u.n, cap), u.codes)
    on conflict (user_id, minute) do nothing;
    if found then
      room := least(u.n, cap);
    else
      select t.kept into strict kept_before
      from passport.rejection_tallies as t
      where t.user_id = u.who and t.minute = this_minute
      for update;
      room := least(u.n, greatest(cap - kept_before, 0));
      update passport.rejection_tallies as t
      set rejected = t.rejected + u.n,
          kept = t.kept + room,
          codes = (select jsonb_object_agg(e.key, e.total)
                   from (select x.key, sum(x.value::bigint) as total
                         from (select * from jsonb_each_text(t.codes) union all select * from jsonb_each_text(u.codes)) as x
                         group by x.key) as e)
      where t.user_id = u.who and t.minute = this_minute;
    end if;
    rooms := rooms || jsonb_build_object(u.who::text, room);
  end loop;

  insert into passport.rejections (user_id, source, kind, client_event_id, code, message)
  select r.user_id, left(r.source, 50), left(r.kind, 200), left(r.client_event_id, 200), left(r.code, 50), left(r.message, 1000)
  from (
    select f.*, row_number() over (partition by coalesce(f.user_id, nil) order by f.idx) as nth
    from rows from (jsonb_to_recordset(refusals)
                    as (user_id uuid, source text, kind text, client_event_id text, code text, message text))
         with ordinality as f(user_id, source, kind, client_event_id, code, message, idx)
  ) as r
  where r.nth <= (rooms ->> coalesce(r.user_id, nil)::text)::integer
  order by r.idx; -- ids in the order of the batch
end
$$;
