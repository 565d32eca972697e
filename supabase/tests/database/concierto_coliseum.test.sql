-- Concierto into Coliseum: a ticket admitted at the door logs event_attended for every lineup
-- artist, and once coliseum.process_pending has folded the log, each artist has T and C
-- strength rows that count the attendance, placed in the venue's city and country.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(10);

-- Whatever other sessions left pending is folded first.
select coliseum.process_pending(1000000) >= 0 as flushed \gset
\ir concierto_helpers.psql

select pg_temp.buy(:'buyer', :'tier', 2, 'pi_pgtap_coliseum_1') as o1 \gset
select pg_temp.buy(:'friend', :'tier', 1, 'pi_pgtap_coliseum_2') as o2 \gset
select pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'North', now())$$,
                                          pg_temp.ticket(:'o1', 1), :'event')) ->> 'status' as s1 \gset
select pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'North', now())$$,
                                          pg_temp.ticket(:'o1', 2), :'event')) ->> 'status' as s2 \gset
select pg_temp.as_user(:'staffer', format($$select concierto.redeem(%L, 1, %L, 'South', now())$$,
                                          pg_temp.ticket(:'o2', 1), :'event')) ->> 'status' as s3 \gset
select is(array[:'s1', :'s2', :'s3'], array['admitted', 'admitted', 'admitted'], 'three tickets of two fans are admitted');

select ok(coliseum.process_pending(1000000) >= 4, 'process_pending folds the attendance into DNA');

select results_eq(
  format($$select m.artist_id, m.domain, count(*)::int, min(m.city), min(m.country::text), min(m.weight)
           from public.coliseum_dna_mutations as m
           where m.kind = 'concierto.event_attended' and m.artist_id in (%L, %L)
           group by 1, 2 order by m.artist_id = %L desc, m.domain$$, :'headliner', :'support', :'headliner'),
  format($$values (%1$L::uuid, 'C', 2, 'Lagos', 'NG', 1000::double precision), (%1$L::uuid, 'T', 2, 'Lagos', 'NG', 1000::double precision),
                  (%2$L::uuid, 'C', 2, 'Lagos', 'NG', 1000::double precision), (%2$L::uuid, 'T', 2, 'Lagos', 'NG', 1000::double precision)$$,
         :'headliner', :'support'),
  'each lineup artist gets a C and a T mutation per attending fan, at the landmark weight, in the venue''s city'
);

create function pg_temp.strength(artist uuid, domain text)
returns public.coliseum_domain_strength
language sql
as $$
  select s.* from public.coliseum_domain_strength as s
  where s.artist_id = strength.artist and s.domain = strength.domain and s.period = 'alltime'
$$;

select is((pg_temp.strength(:'headliner', 'C')).components ->> 'attendance', '2', 'the headliner''s C strength counts two attendances');
select is((pg_temp.strength(:'support', 'C')).components ->> 'attendance', '2', 'and so does the support act''s');
select ok((pg_temp.strength(:'headliner', 'C')).score > 0 and (pg_temp.strength(:'support', 'C')).score > 0,
          'both have a C score above zero');
select ok((pg_temp.strength(:'headliner', 'C')).components ->> 'cities' = '1'
          and (pg_temp.strength(:'headliner', 'C')).components ->> 'countries' = '1',
          'placed in one city of one country: the venue''s');
select is((pg_temp.strength(:'support', 'T')).fans, 2::bigint, 'the support act''s T strength has the two attending fans');
select ok((pg_temp.strength(:'headliner', 'T')).score > 0 and (pg_temp.strength(:'support', 'T')).score > 0,
          'both have a T score above zero');
select ok(
  (select count(*) = 0 from public.coliseum_dna_mutations where kind = 'concierto.ticket_validated'
     and fan_id in (:'buyer', :'friend')),
  'ticket_validated names no artist: attendance counts through event_attended alone'
);

select * from finish();
rollback;
