-- How a processor batch costs as the touched artists' history grows: 50,000 plays (500 artists,
-- 32 fans, all now) logged, then folded in five process_pending(10000) batches, each touching all
-- 500 artists, each with 10,000 more events of history than the one before. Run against a stack
-- with nothing else pending:  ./stack psql -f tests/bench/processor_history.sql
-- It pauses the processor worker and the safety-net job while it runs and restarts them after.
\timing on
update cron.job set active = false where jobname = 'coliseum-process';
select coliseum.stop_processor();
create temp table arts as select gen_random_uuid() as a from generate_series(1, 500);
create temp table fs as select gen_random_uuid() as f from generate_series(1, 32);
create temp table ev as
  select jsonb_agg(jsonb_build_object(
           'user_id', (select f from fs offset (i % 32) limit 1), 'source', 'app', 'kind', 'audio.play',
           'client_event_id', gen_random_uuid(), 'artist_id', (select a from arts offset (i % 500) limit 1),
           'payload', jsonb_build_object('track_id', gen_random_uuid(), 'duration_ms', 60000, 'genre', 'afrobeats'))) as x
  from generate_series(1, 50000) as i
  group by i / 500;
select sum(jsonb_array_length(passport.ingest(x))) as logged from ev;
select coliseum.process_pending(10000) as batch_1_no_history;
select coliseum.process_pending(10000) as batch_2_history_10k;
select coliseum.process_pending(10000) as batch_3_history_20k;
select coliseum.process_pending(10000) as batch_4_history_30k;
select coliseum.process_pending(10000) as batch_5_history_40k;
update cron.job set active = true where jobname = 'coliseum-process';
select coliseum.start_processor();
