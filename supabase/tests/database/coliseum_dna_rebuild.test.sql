-- Coliseum DNA: rebuild() recomputes from the whole log exactly what incremental
-- processing in small batches produced: the same mutations (ignoring id and
-- processed_at), fans, fan genres and strength rows for the same as_of.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(9);

-- A running processor waits until this test ends, instead of meeting the rebuild
-- below with mutations of its own (rebuild() is for a transaction of its own).
lock table public.coliseum_dna_mutations, coliseum.fan_genres, coliseum.fans in exclusive mode;
select coliseum.process_pending(1000000) >= 0 as flushed \gset
select now() - interval '1 minute' as t \gset

-- A varied log: 6 artists, 40 fans, every kind with an artist that feeds DNA plus homes
-- and genre preferences set (and changed) between the other events, over 45 days.
create temp table workload on commit drop as
select i,
       ('00000000-0000-4000-9000-' || lpad(to_hex(1 + i % 40), 12, '0'))::uuid as fan,
       ('00000000-0000-4000-a000-' || lpad(to_hex(1 + (i * 7) % 6), 12, '0'))::uuid as artist,
       (array['audio.play', 'audio.complete', 'audio.like', 'audio.share', 'audio.playlist_add', 'social.follow',
              'social.comment', 'audio.skip', 'tip.sent', 'concierto.ticket_purchased', 'concierto.event_attended',
              'concierto.event_rsvp', 'merch.purchased', 'membership.started', 'treasury.refund', 'drop.purchased',
              'profile.location_set', 'profile.genre_preference_set'])[1 + (i * 13) % 18] as kind,
       :'t'::timestamptz - (i % 45) * interval '1 day' - (i % 24) * interval '1 hour' as occurred_at
from generate_series(1, 600) as i;

select count(passport.log(
  w.fan, w.kind, 'rebuild-' || w.i,
  case w.kind
    when 'audio.play' then jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001', 'duration_ms', 20000 + (w.i % 5) * 5000,
                                              'genre', (array['afrobeats', 'highlife', 'jazz'])[1 + w.i % 3])
    when 'audio.complete' then jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001', 'genre', (array['afrobeats', 'amapiano'])[1 + w.i % 2])
    when 'audio.like' then jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001', 'genre', 'highlife')
    when 'audio.share' then jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001')
    when 'audio.playlist_add' then jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001', 'playlist_id', 'c0000000-0000-4000-8000-000000000002', 'genre', 'jazz')
    when 'social.comment' then jsonb_build_object('comment_id', 'c0000000-0000-4000-8000-000000000003', 'target_id', 'c0000000-0000-4000-8000-000000000004')
    when 'audio.skip' then jsonb_build_object('track_id', 'c0000000-0000-4000-8000-000000000001')
    when 'tip.sent' then jsonb_build_object('payment_id', 'tip-' || w.i, 'amount_minor', 100 * w.i, 'currency', (array['NGN', 'EUR', 'JPY'])[1 + w.i % 3])
    when 'concierto.ticket_purchased' then jsonb_build_object('event_id', 'c0000000-0000-4000-8000-000000000005', 'tier_id', 'c0000000-0000-4000-8000-000000000006',
                                                              'quantity', 1, 'amount_minor', 2500, 'currency', 'GHS', 'city', 'Accra', 'country', 'GH')
    when 'concierto.event_attended' then jsonb_build_object('event_id', 'c0000000-0000-4000-8000-000000000005',
                                                            'city', (array['Accra', 'Lagos'])[1 + w.i % 2], 'country', (array['GH', 'NG'])[1 + w.i % 2])
    when 'concierto.event_rsvp' then jsonb_build_object('event_id', 'c0000000-0000-4000-8000-000000000005')
    when 'merch.purchased' then jsonb_build_object('product_id', 'c0000000-0000-4000-8000-000000000007', 'quantity', 1, 'amount_minor', 1999, 'currency', 'USD')
    when 'membership.started' then jsonb_build_object('membership_id', 'c0000000-0000-4000-8000-000000000008', 'plan', 'gold', 'amount_minor', 500, 'currency', 'ZAR')
    when 'treasury.refund' then jsonb_build_object('payment_id', 'tip-' || w.i, 'amount_minor', 50 * w.i, 'currency', 'EUR')
    when 'drop.purchased' then jsonb_build_object('drop_id', 'c0000000-0000-4000-8000-000000000009', 'quantity', 1, 'amount_minor', 700, 'currency', 'BRL')
    when 'profile.location_set' then jsonb_build_object('city', (array['Lagos', 'Accra', 'Nairobi', 'London'])[1 + w.i % 4],
                                                        'country', (array['NG', 'GH', 'KE', 'GB'])[1 + w.i % 4])
    when 'profile.genre_preference_set' then jsonb_build_object('genre', (array['afrobeats', 'jazz'])[1 + w.i % 2])
    else '{}'::jsonb
  end,
  case when w.kind like 'profile.%' then null else w.artist end,
  w.occurred_at,
  case when w.kind in ('tip.sent', 'merch.purchased', 'membership.started', 'treasury.refund', 'drop.purchased') then 'treasury'
       when w.kind like 'concierto.%' and w.kind <> 'concierto.event_rsvp' then 'concierto'
       else 'app' end)) as logged
from workload as w \gset

-- Incremental: many small batches, each refreshing as of now() on its way.
do $$
begin
  while coliseum.process_pending(37) > 0 loop
  end loop;
end
$$;

create temp table artists on commit drop as select distinct artist from workload;
select coliseum_private.refresh_artists(array(select artist from artists), :'t') as refreshed \gset

create temp table incremental_mutations on commit drop as
select entry_id, artist_id, domain, fan_id, kind, occurred_at, tier, weight, amount_usd_cents, genre, city, country, rules_version
from public.coliseum_dna_mutations where artist_id in (select artist from artists);
create temp table incremental_strength on commit drop as
select artist_id, domain, period, score, raw, components, events, fans, computed_at
from public.coliseum_domain_strength where artist_id in (select artist from artists);
create temp table incremental_fans on commit drop as
select fan_id, home_city, home_country, declared_genre, location_entry_id, genre_entry_id
from coliseum.fans where fan_id in (select fan from workload);
create temp table incremental_genres on commit drop as
select fan_id, genre, weight from coliseum.fan_genres where fan_id in (select fan from workload);

select ok((select count(*) from incremental_mutations) > 500, 'the workload made mutations for every domain')
  where (select count(distinct domain) from incremental_mutations) = 4;
select ok((select count(*) from incremental_strength) = 90, 'and scores for the 6 artists');

select ok(coliseum.rebuild(:'t') >= (select count(*) from incremental_mutations), 'rebuild returns the number of mutations');

select set_eq(
  $$select entry_id, artist_id, domain, fan_id, kind, occurred_at, tier, weight, amount_usd_cents, genre, city, country, rules_version
    from public.coliseum_dna_mutations where artist_id in (select artist from artists)$$,
  'select * from incremental_mutations',
  'rebuild derives the same mutations');
-- Values only: computed_at is the as_of of the refresh that last changed a row, which a
-- rebuild (every row written afresh as of t) and the incremental path (a row that held its
-- values since an earlier refresh keeps that refresh's as_of) set differently.
select set_eq(
  $$select artist_id, domain, period, score, raw, components, events, fans
    from public.coliseum_domain_strength where artist_id in (select artist from artists)$$,
  'select artist_id, domain, period, score, raw, components, events, fans from incremental_strength',
  'rebuild gives the same strength rows, bit for bit');
select set_eq(
  $$select fan_id, home_city, home_country, declared_genre, location_entry_id, genre_entry_id
    from coliseum.fans where fan_id in (select fan from workload)$$,
  'select * from incremental_fans',
  'the same fans');
select set_eq(
  $$select fan_id, genre, weight from coliseum.fan_genres where fan_id in (select fan from workload)$$,
  'select * from incremental_genres',
  'the same fan genres');
select is((select count(*) from public.passport_entries where coliseum_processed_at is null and id <= (select max(entry_id) from incremental_mutations)),
          0::bigint, 'every entry is marked');
select is((select count(*) from coliseum.strength_history where artist_id in (select artist from artists) and day = (:'t'::timestamptz at time zone 'UTC')::date),
          90::bigint, 'the day''s history is rewritten');

select * from finish();
rollback;
