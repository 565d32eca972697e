-- The pg_cron job companon-measure (every minute): takes up to max_entries queued Passport entries, oldest
-- first, counts their views and clicks (count_touches) and attributes their conversions (attribute_conversions,
-- which reads the touches from the log, counted yet or not), and deletes them from the queue, all in one
-- transaction: each entry counts exactly once. Runs one at a time (an advisory lock), so the upserts of two runs
-- never wait on each other's rows in opposite orders. Returns how many entries it took (0: none was queued).
create or replace function companon_private.measure_pending(max_entries int default 10000)
returns int
language plpgsql
volatile
as $$
declare
  batch bigint[];
begin
  if max_entries is null or max_entries < 1 then
    raise exception using
      errcode = '22023',
      message = format('max_entries must be at least 1, got %s', coalesce(max_entries::text, 'null'));
  end if;
  -- 'Comp' 'Meas'
  perform pg_advisory_xact_lock(1131375984, 1298489715);

  with taken as (
    delete from companon_private.measure_queue as q
    where q.entry_id in (select r.entry_id from companon_private.measure_queue as r
                         order by r.entry_id
                         limit max_entries
                         for update skip locked)
    returning q.entry_id
  )
  select array_agg(t.entry_id order by t.entry_id) into batch from taken as t;
  if batch is null then
    return 0;
  end if;

  perform companon_private.count_touches(batch);
  perform companon_private.attribute_conversions(batch);
  return cardinality(batch);
end
$$;
