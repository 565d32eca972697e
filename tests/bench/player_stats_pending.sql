-- The processor's workload for ./stack bench player_stats (run inside a transaction that is rolled back):
-- bench.pending (20,000) pending entries, 85% plays (a tenth of them under 30 s) of 5,000 tracks by 500
-- artists from 2,000 fans over the last 3 days, 12% likes and unlikes, 3% door validations in 20 cities.
insert into public.passport_entries (user_id, kind, artist_id, payload, occurred_at, client_event_id, source)
select
  ('f5000000-0000-4000-8000-' || lpad(to_hex(i % 2000), 12, '0'))::uuid,
  case when i % 100 < 85 then 'audio.play' when i % 100 < 93 then 'audio.like' when i % 100 < 97 then 'audio.unlike'
       else 'concierto.ticket_validated' end,
  case when i % 100 < 97 then ('a5000000-0000-4000-8000-' || lpad(to_hex((i * 7) % 5000 / 10), 12, '0'))::uuid end,
  case when i % 100 < 85 then jsonb_build_object('track_id', 'b5000000-0000-4000-8000-' || lpad(to_hex((i * 7) % 5000), 12, '0'),
                                                 'duration_ms', case when i % 10 = 0 then 20000 else 31000 + i % 200000 end)
       when i % 100 < 97 then jsonb_build_object('track_id', 'b5000000-0000-4000-8000-' || lpad(to_hex((i * 7) % 5000), 12, '0'))
       else jsonb_build_object('event_id', 'e5000000-0000-4000-8000-' || lpad(to_hex(i % 300), 12, '0'),
                               'ticket_id', gen_random_uuid(), 'city', 'City ' || (i % 20), 'country', 'NG') end,
  now() - interval '3 days' + i * interval '3 days' / current_setting('bench.pending')::int,
  'bench-pending-' || i, case when i % 100 < 97 then 'app' else 'concierto' end
from generate_series(1, current_setting('bench.pending')::int) as i;
