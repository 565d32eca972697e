-- Local seed (applied by `supabase db reset` and by ./stack on a fresh cluster; never on a
-- deployed project). The catalog itself arrives by migration; this adds the demo user whose
-- token `./stack env` exports as DEMO_USER_TOKEN, with a short, realistic history written the
-- way server-side producers write: through passport.log. Re-running it changes nothing (the
-- client_event_ids are fixed).
--
--   demo user (listener)  d3e40000-0000-4000-8000-000000000001  demo@buckets.local
--   example artist        5eed0000-0000-4000-8000-00000000a001

insert into auth.users (id, email)
values ('d3e40000-0000-4000-8000-000000000001', 'demo@buckets.local')
on conflict (id) do nothing;

select passport.log(
  user_id => 'd3e40000-0000-4000-8000-000000000001',
  kind => e.kind,
  client_event_id => e.client_event_id,
  payload => e.payload,
  artist_id => e.artist_id,
  occurred_at => date_trunc('minute', now()) - e.ago,
  source => e.source
)
from (values
  ('seed-profile', 'profile.location_set', '{"city": "Lagos", "country": "NG"}'::jsonb, null::uuid,
   interval '6 days', 'app'),
  ('seed-follow', 'social.follow', '{"city": "Lagos", "country": "NG"}', '5eed0000-0000-4000-8000-00000000a001',
   interval '5 days', 'app'),
  ('seed-play-1', 'audio.play',
   '{"track_id": "5eed0000-0000-4000-8000-0000000070a1", "duration_ms": 12000, "genre": "afrobeats"}',
   '5eed0000-0000-4000-8000-00000000a001', interval '4 days', 'app'),
  ('seed-play-2', 'audio.play',
   '{"track_id": "5eed0000-0000-4000-8000-0000000070a1", "duration_ms": 184000, "genre": "afrobeats", "country": "NG"}',
   '5eed0000-0000-4000-8000-00000000a001', interval '3 days', 'app'),
  ('seed-like', 'audio.like', '{"track_id": "5eed0000-0000-4000-8000-0000000070a1", "genre": "afrobeats"}',
   '5eed0000-0000-4000-8000-00000000a001', interval '3 days' - interval '5 minutes', 'app'),
  ('seed-spend', 'treasury.money_spent',
   '{"payment_id": "pi_seed_1", "amount_minor": 4500, "currency": "NGN", "product_type": "ticket"}',
   null, interval '2 days', 'treasury'),
  ('seed-ticket', 'concierto.ticket_purchased',
   '{"event_id": "5eed0000-0000-4000-8000-0000000e0e01", "tier_id": "5eed0000-0000-4000-8000-0000000e0f01", "quantity": 1, "amount_minor": 4500, "currency": "NGN", "city": "Lagos", "country": "NG"}',
   '5eed0000-0000-4000-8000-00000000a001', interval '2 days', 'concierto'),
  ('seed-attended', 'concierto.event_attended',
   '{"event_id": "5eed0000-0000-4000-8000-0000000e0e01", "city": "Lagos", "country": "NG"}',
   '5eed0000-0000-4000-8000-00000000a001', interval '1 day', 'concierto')
) as e(client_event_id, kind, payload, artist_id, ago, source);
