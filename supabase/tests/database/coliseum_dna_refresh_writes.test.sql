-- Coliseum refresh: Supabase Realtime streams every row written to
-- coliseum_domain_strength, so a refresh writes only the rows whose values
-- changed; the artist's refresh time moves on either way.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(7);

select coliseum.process_pending(1000000) >= 0 as flushed \gset

select gen_random_uuid() as artist, gen_random_uuid() as fan, now() as t0 \gset
select passport.log(:'fan', 'audio.play', 'p1',
                    '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 60000, "genre": "afrobeats"}',
                    :'artist', now() - interval '2 days') as p1 \gset
select coliseum.process_pending(1000000) as processed \gset

-- Rows written to the table in this transaction so far (inserts and updates).
create function pg_temp.strength_writes() returns bigint language sql as $$
  select n_tup_ins + n_tup_upd from pg_catalog.pg_stat_xact_user_tables
  where relid = 'public.coliseum_domain_strength'::regclass
$$;

create temp table scored as
select ctid as at, * from public.coliseum_domain_strength where artist_id = :'artist';
select is((select count(*) from scored), 15::bigint, 'the processor scored the artist: 15 rows');

-- The same as_of again: every value holds.
select pg_temp.strength_writes() as before_same \gset
select is(coliseum_private.refresh_artists(array[:'artist']::uuid[], :'t0'), 1, 'a refresh at the same instant');
select is(pg_temp.strength_writes() - :before_same, 0::bigint, 'writes no strength row when no value changed');
select is((select count(*) from public.coliseum_domain_strength as s join scored as p using (artist_id, domain, period)
           where s.ctid = p.at and s.computed_at = p.computed_at),
          15::bigint, 'every row is the same row version, computed_at unchanged');
select is((select refreshed_at from coliseum_private.artist_refreshes where artist_id = :'artist'), :'t0'::timestamptz,
          'the refresh time is recorded');

-- A day later decay moves the A and T scores; G and C (no such events) hold.
select pg_temp.strength_writes() as before_later \gset
select coliseum_private.refresh_artists(array[:'artist']::uuid[], :'t0'::timestamptz + interval '1 day') as later \gset
select is(pg_temp.strength_writes() - :before_later,
          (select count(*) from public.coliseum_domain_strength as s join scored as p using (artist_id, domain, period)
           where (s.score, s.raw, s.components, s.events, s.fans) is distinct from (p.score, p.raw, p.components, p.events, p.fans)),
          'a later refresh writes exactly the rows whose values changed');
select is((select array_agg(distinct s.domain order by s.domain)
           from public.coliseum_domain_strength as s join scored as p using (artist_id, domain, period)
           where s.ctid = p.at),
          array['C', 'G'], 'the G and C rows, unchanged, were not rewritten');

select * from finish();
rollback;
