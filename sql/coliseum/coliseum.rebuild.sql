-- Recomputes all DNA and the player stats from the whole log: derived state is emptied, every entry
-- is folded again in id order, pending entries are marked, every artist is
-- scored as of as_of. Notifications are kept and none are written; one NOTIFY
-- {"rebuild": true, "as_of": ..., "artists": n} replaces the per-row ones.
-- Returns the number of mutations.
create or replace function coliseum.rebuild(as_of timestamptz default now())
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  chunk constant int := 20000;
  batch bigint[];
  last_id bigint := 0;
  received_from timestamptz;
  received_to timestamptz;
  artists uuid[];
  artist_count int := 0;
  total bigint;
begin
  perform coliseum_private.require_read_committed('coliseum.rebuild');
  -- The refresh lock first, as a processor takes it before it writes: a
  -- processor that holds it finishes first, later ones wait. Readers of fans
  -- and strengths keep the old rows until the rebuild commits.
  perform pg_advisory_xact_lock(1131375721, 1382446952);
  lock table public.coliseum_dna_mutations, coliseum.fan_genres, coliseum.fans, coliseum.fan_tracks,
    coliseum.track_likes in exclusive mode;

  perform set_config('buckets.coliseum_rebuild', txid_current()::text, true);
  truncate public.coliseum_dna_mutations;
  perform set_config('buckets.coliseum_rebuild', '', true);
  truncate coliseum_private.dna_hours, coliseum_private.dna_totals, coliseum_private.artist_fans,
    coliseum_private.artist_places, coliseum_private.artist_refreshes, coliseum_private.fan_days,
    coliseum_private.artist_signals, coliseum_private.track_counts, coliseum_private.track_play_days,
    coliseum_private.artist_counts, coliseum_private.artist_play_days, coliseum_private.attendances,
    coliseum_private.attendance_counts, coliseum_private.refresh_backlog;
  -- Deletes, not truncates, so that readers keep the old rows until commit;
  -- "where true" because PostgREST's sessions load safeupdate, which refuses
  -- a DELETE without WHERE even inside a function.
  delete from coliseum.fan_genres where true;
  delete from coliseum.fans where true;
  delete from coliseum.fan_tracks where true;
  delete from coliseum.track_likes where true;
  delete from public.coliseum_domain_strength where true;
  delete from coliseum.strength_history as h where h.day = (as_of at time zone 'UTC')::date;

  loop
    select array_agg(p.id order by p.id), max(p.id), min(p.received_at), max(p.received_at)
    into batch, last_id, received_from, received_to
    from (select p.id, p.received_at from public.passport_entries as p where p.id > last_id order by p.id limit chunk) as p;
    exit when batch is null;
    perform coliseum_private.fold_entries(batch, received_from, received_to);
    perform coliseum_private.fold_player_stats(batch, received_from, received_to);
  end loop;

  -- Entries a processor holds are skipped: it folds them itself (its
  -- mutations already exist here, so it adds nothing) and marks them.
  update public.passport_entries as p
  set coliseum_processed_at = now()
  where p.id in (select q.id from public.passport_entries as q
                 where q.coliseum_processed_at is null
                 for update skip locked);

  for artists in
    select array_agg(a.artist_id)
    from (select a.artist_id, (row_number() over (order by a.artist_id) - 1) / 2000 as part
          from (select distinct m.artist_id from public.coliseum_dna_mutations as m) as a) as a
    group by a.part
  loop
    artist_count := artist_count + coliseum_private.refresh_artists(artists, as_of, false);
  end loop;

  perform pg_notify('coliseum_strength',
                    jsonb_build_object('rebuild', true, 'as_of', as_of, 'artists', artist_count)::text);
  select count(*) into total from public.coliseum_dna_mutations;
  return total;
end
$$;

comment on function coliseum.rebuild(timestamptz) is
  'Recomputes all DNA from the whole Passport log and scores every artist as of as_of; returns the number of mutations.';

grant execute on function coliseum.rebuild(timestamptz) to service_role;
