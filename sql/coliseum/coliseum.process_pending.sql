-- Claims up to max_entries pending entries (oldest first, skipping those
-- another processor holds), folds them (DNA, then the player stats from the
-- mutations just stored), marks them processed and refreshes
-- the artists they touched, all in the caller's transaction. While a backlog
-- drains (a full batch, more entries pending behind it) the refresh waits, at most
-- 2 seconds, in coliseum_private.refresh_backlog: one refresh then scores the
-- artists of several batches. Every other call (a batch that was not full,
-- nothing pending) scores the artists waiting there with its own. Returns how
-- many entries it processed (0: nothing was pending).
create or replace function coliseum.process_pending(max_entries int default 5000)
returns int
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  batch bigint[];
  received_from timestamptz;
  received_to timestamptz;
  touched uuid[];
begin
  if max_entries is null or max_entries < 1 then
    raise exception using
      errcode = '22023',
      message = format('max_entries must be at least 1, got %s', coalesce(max_entries::text, 'null'));
  end if;
  -- The refresh must see what other processors committed after this
  -- transaction began.
  perform coliseum_private.require_read_committed('coliseum.process_pending');

  -- Folds and refreshes run one at a time: the aggregates take one writer,
  -- and the statements after the lock see what earlier holders committed.
  -- The lock comes before the claim so that processors fold in claim order,
  -- which is id order: the counting rules rank a fan's plays in log order.
  -- 'Coli' 'Rfsh'
  perform pg_advisory_xact_lock(1131375721, 1382446952);

  -- Claim and mark in one statement: the oldest pending entries that no
  -- other processor holds. The marks commit with the mutations or not at all.
  -- The batch's span of received_at (the log's partition key) lets the fold
  -- read only its months. The mark finds the rows by id: matching on
  -- (id, received_at) here was planned as a hash join over a scan of the
  -- whole log, and a join "from" the picked rows as a merge join over the
  -- whole primary key; by id alone the plan is a nested loop of key probes.
  with claimed as (
    update public.passport_entries as p
    set coliseum_processed_at = now()
    where p.id in (select q.id
                   from public.passport_entries as q
                   where q.coliseum_processed_at is null
                   order by q.id
                   limit max_entries
                   for update skip locked)
    returning p.id, p.received_at
  )
  select array_agg(c.id order by c.id), min(c.received_at), max(c.received_at)
  into batch, received_from, received_to
  from claimed as c;

  if batch is not null then
    touched := coliseum_private.fold_entries(batch, received_from, received_to);
    perform coliseum_private.fold_player_stats(batch, received_from, received_to);
    perform people_private.evaluate_badges(batch, null, received_from, received_to);
    -- A refresh costs per artist, not per entry: while a backlog drains (the
    -- batch is full and more entries wait behind it) its artists wait for the
    -- refresh of a later batch, as long as none has waited 2 seconds. Entries
    -- that arrived during a batch that was not full are no backlog: they are
    -- the next batch of a processor that keeps up, and its boards refresh now.
    if cardinality(batch) = max_entries
       and exists (select from public.passport_entries as q
                   where q.coliseum_processed_at is null and q.id > batch[cardinality(batch)])
       and not exists (select from coliseum_private.refresh_backlog as b
                       where b.since <= now() - interval '2 seconds') then
      insert into coliseum_private.refresh_backlog as b (artist_id, since)
      select t.artist_id, now() from unnest(touched) as t(artist_id) order by t.artist_id
      on conflict (artist_id) do nothing;
      return cardinality(batch);
    end if;
  end if;

  -- The artists of this batch and those earlier batches left waiting.
  -- "where true": PostgREST's sessions load safeupdate, which refuses a
  -- DELETE without WHERE even inside a function.
  with waited as (
    delete from coliseum_private.refresh_backlog as b where true returning b.artist_id
  )
  select array(select t.artist_id from unnest(touched) as t(artist_id)
               union
               select w.artist_id from waited as w)
  into touched;
  perform coliseum_private.refresh_artists(touched, now());
  return coalesce(cardinality(batch), 0);
end
$$;

comment on function coliseum.process_pending(int) is
  'Folds up to max_entries pending Passport entries into DNA (exactly once) and refreshes the artists they touched; returns how many.';

grant execute on function coliseum.process_pending(int) to service_role;
