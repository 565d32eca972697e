-- Coliseum DNA: while a backlog drains, process_pending leaves the refresh of a full batch's artists to a
-- later call (coliseum_private.refresh_backlog, at most 2 seconds), and the call that is not full scores
-- every artist waiting, with the same scores as a refresh of each batch would give.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(17);

-- Badges stay out of the way (their awards log entries the next call would find pending).
update people.badges set active = false where active;
-- Whatever other sessions left pending is folded, and scored, first.
select coliseum.process_pending(1000000) >= 0 as flushed \gset
select is((select count(*) from coliseum_private.refresh_backlog), 0::bigint, 'a call that drains the queue leaves no artist waiting');

select gen_random_uuid() as a1, gen_random_uuid() as a2, gen_random_uuid() as a3, gen_random_uuid() as fan,
       now() - interval '1 hour' as at \gset
-- Three follows, one per artist, in id order.
select passport.log(:'fan', 'social.follow', 'b1', '{}', :'a1', :'at') as e1 \gset
select passport.log(:'fan', 'social.follow', 'b2', '{}', :'a2', :'at') as e2 \gset
select passport.log(:'fan', 'social.follow', 'b3', '{}', :'a3', :'at') as e3 \gset

-- A full batch with more pending behind it: folded and marked, its artist waits.
select is(coliseum.process_pending(1), 1, 'a full batch is folded');
select ok((select coliseum_processed_at is not null from public.passport_entries where id = :e1), 'and marked');
select ok((select count(*) from public.coliseum_dna_mutations where entry_id = :e1) > 0, 'its mutations are stored');
select is((select count(*) from public.coliseum_domain_strength where artist_id = :'a1'), 0::bigint,
          'its artist is not scored yet');
select is((select array_agg(artist_id) from coliseum_private.refresh_backlog), array[:'a1'::uuid],
          'it waits in refresh_backlog');

-- Another full batch: its artist joins the wait.
select is(coliseum.process_pending(1), 1, 'the next full batch is folded');
select is((select array_agg(artist_id order by artist_id) from coliseum_private.refresh_backlog),
          (select array_agg(a order by a) from unnest(array[:'a1'::uuid, :'a2'::uuid]) as a),
          'its artist waits too');

-- The last entry does not fill the batch: this call scores its artist and every artist waiting.
select is(coliseum.process_pending(5), 1, 'a batch that is not full is folded');
select is((select count(*) from coliseum_private.refresh_backlog), 0::bigint, 'and nobody waits any more');
select is((select count(distinct artist_id) from public.coliseum_domain_strength
           where artist_id in (:'a1', :'a2', :'a3') and domain = 'overall' and period = '7d' and events = 1),
          3::bigint, 'the three artists are scored, each with its event');

-- A wait of 2 seconds or more ends it: the next full batch scores at once, whatever is still pending.
select gen_random_uuid() as a4, gen_random_uuid() as a5 \gset
select passport.log(:'fan', 'social.follow', 'b4', '{}', :'a4', :'at') as e4 \gset
select passport.log(:'fan', 'social.follow', 'b5', '{}', :'a5', :'at') as e5 \gset
insert into coliseum_private.refresh_backlog (artist_id, since) values (:'a3', now() - interval '2 seconds');
select coliseum.process_pending(1) as one \gset
select is((select count(*) from coliseum_private.refresh_backlog), 0::bigint,
          'after a 2-second wait a full batch refreshes the waiting artists with its own');

select is((select count(*) from public.coliseum_domain_strength where artist_id = :'a4' and domain = 'overall'),
          3::bigint, 'and its own artist is scored');

-- A full batch with nothing behind it is no backlog: its artist is scored at once.
select is(coliseum.process_pending(1), 1, 'the last entry fills a batch of one');
select is((select count(*) from coliseum_private.refresh_backlog), 0::bigint, 'nothing pending behind it: nobody waits');

-- An idle call (nothing pending) scores whoever still waits (a batch that waited, then the queue emptied).
insert into coliseum_private.refresh_backlog (artist_id, since) values (:'a5', now());
select is(coliseum.process_pending(10), 0, 'an idle call folds nothing');
select is((select count(*) from coliseum_private.refresh_backlog), 0::bigint, 'and scores the artists left waiting');
select * from finish();
rollback;
