-- ./stack bench partitions: 10,000 pending entries for the processor (follows, likes and plays of 300 new
-- artists by 3,000 new fans over the last 28 days), inserted straight into the log. The same file measures a
-- checkout without partitions by hand (docs/partitions.md#figures). Fans and artists carry the benches' id prefixes
-- (tests/bench/seeded.ts), which the bench removes when it ends.
with run as (select gen_random_uuid()::text as seed)
insert into public.passport_entries (user_id, kind, artist_id, payload, occurred_at, client_event_id, source)
select overlay(md5(run.seed || 'fan' || (i * 7919 % 3000)) placing 'c0115e0f' from 1)::uuid,
       case i % 4 when 0 then 'social.follow' when 1 then 'audio.like' else 'audio.complete' end,
       overlay(md5(run.seed || 'artist' || (i * 104729 % 300)) placing 'c0115e0a' from 1)::uuid,
       case i % 4
         when 0 then '{}'::jsonb
         when 1 then jsonb_build_object('track_id', gen_random_uuid(), 'genre', 'highlife')
         else jsonb_build_object('track_id', gen_random_uuid(), 'genre', 'afrobeats', 'city', 'Accra', 'country', 'GH')
       end,
       now() - make_interval(secs => (i * 611) % (28 * 86400)),
       gen_random_uuid()::text,
       'app'
from run, generate_series(1, 10000) as i;
