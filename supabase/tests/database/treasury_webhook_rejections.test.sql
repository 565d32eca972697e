-- Webhook rejections aggregate: anyone can make the webhook refuse a request, so a flood of unsigned
-- junk must become a few rows with counts, and must never push out the evidence of genuine, signed
-- deliveries that could not be used (docs/treasury-webhook.md#refused-deliveries).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(23);

-- A probe as the webhook records it: unsigned, from a source, with the detail of its body.
create function pg_temp.probe(code text, source text, n int default 0)
returns bigint
language sql
as $$
  select treasury.log_webhook_rejection(code, 'no v1 signature matches',
    jsonb_build_object('signature_header', true, 'body_bytes', n, 'body_sha256', md5(n::text)), source)
$$;

-- One source, 1,000 identical probes and then a few different ones.
select pg_temp.probe('pgtap_probe', '203.0.113.7') as first_id \gset
select count(distinct pg_temp.probe('pgtap_probe', '203.0.113.7')) as ids from generate_series(2, 1000) \gset
select is(:ids::bigint, 1::bigint, 'a thousand identical probes from one source are one row');
select results_eq(
  $$select hits, signed, source, body_sha256 is null, first_seen <= last_seen from treasury.webhook_rejections where code = 'pgtap_probe'$$,
  $$values (1000::bigint, false, '203.0.113.7', true, true)$$,
  'with the count, unsigned, its source, no body key'
);
select pg_temp.probe('pgtap_probe', '203.0.113.7', n) from generate_series(1, 8) as n;
select results_eq(
  $$select hits, jsonb_array_length(samples), samples -> 0 -> 'detail' ->> 'body_bytes', samples -> 1 -> 'detail' ->> 'body_bytes',
           samples -> 0 ->> 'source', detail ->> 'body_bytes'
    from treasury.webhook_rejections where code = 'pgtap_probe'$$,
  $$values (1008::bigint, 5, '0', '1', '203.0.113.7', '8')$$,
  'samples keep the first five distinct details, detail the newest'
);
select is((select count(*) from treasury.webhook_rejections where code = 'pgtap_probe'), 1::bigint, 'still one row');

select pg_temp.probe('pgtap_probe', '2001:DB8::1') as v6 \gset
select is((select source from treasury.webhook_rejections where id = :v6), '2001:db8::1', 'another source has its own row, lower-cased');
select pg_temp.probe('pgtap_other_code', '203.0.113.7') as other_code \gset
select isnt(:other_code, :first_id, 'and so does another code from the same source');
select pg_temp.probe('pgtap_probe', null) as unknown_source \gset
select is((select source from treasury.webhook_rejections where id = :unknown_source), 'unknown',
          'a request without a client address is from ''unknown''');
select throws_ok($$select pg_temp.probe('pgtap_probe', 'evil; drop table')$$, '22023',
                 'source must be an IP address (up to 45 characters of 0-9 a-f . :), got evil; drop table',
                 'a source is an address');
select throws_ok($$select treasury.log_webhook_rejection('x', 'm', '{}', null, null)$$, '22023', 'signed is required',
                 'signed is true or false');

-- A client can name any address in x-forwarded-for: past 1,000 sources a code's new ones share 'other'.
select count(pg_temp.probe('pgtap_spoof', '198.51.' || (n / 256) || '.' || (n % 256))) as spoofed
from generate_series(1, 1000) as n \gset
select pg_temp.probe('pgtap_spoof', '192.0.2.' || n) from generate_series(1, 50) as n;
select results_eq(
  $$select count(*), count(*) filter (where source = 'other'), max(hits) filter (where source = 'other')
    from treasury.webhook_rejections where code = 'pgtap_spoof'$$,
  $$values (1001::bigint, 1::bigint, 50::bigint)$$,
  'a code keeps at most 1,000 sources; the 50 after them are one row ''other'' with 50 hits'
);
select pg_temp.probe('pgtap_spoof', '198.51.0.1') as seen_before \gset
select is((select hits from treasury.webhook_rejections where code = 'pgtap_spoof' and id = :seen_before),
          2::bigint, 'a source seen before still counts on its own row');

-- Signed rejections: one row per delivery (its body), however often Stripe retries it.
select throws_ok($$select treasury.log_webhook_rejection('pgtap_invalid', 'm', '{}', null, true)$$, '22023',
                 'a signed rejection needs detail.body_sha256, the body''s SHA-256 in 64 lower-case hex digits',
                 'a signed rejection names its body');
select treasury.log_webhook_rejection('pgtap_invalid', 'not an event', jsonb_build_object('body_sha256', repeat('a', 64), 'n', 1),
                                      '3.18.12.63', true) as delivery \gset
select is(treasury.log_webhook_rejection('pgtap_invalid', 'not an event', jsonb_build_object('body_sha256', repeat('a', 64), 'n', 2),
                                         '3.130.192.231', true), :delivery::bigint, 'a retry of the delivery counts on its row');
select results_eq(
  format('select hits, signed, source, body_sha256, samples -> 0 ->> ''source'' from treasury.webhook_rejections where id = %s', :delivery),
  format($$values (2::bigint, true, '3.130.192.231', %L, '3.18.12.63')$$, repeat('a', 64)),
  'signed, keyed by its body, from the latest of Stripe''s addresses, the first in its samples'
);
select isnt(treasury.log_webhook_rejection('pgtap_invalid', 'not an event', jsonb_build_object('body_sha256', repeat('b', 64)),
                                           '3.18.12.63', true), :delivery::bigint, 'another delivery has its own row');

-- Deliveries overlap: one whose transaction began before the row was first written updates it after.
-- Its now() is earlier than the row's first_seen; the row's span widens instead of breaking.
select pg_temp.probe('pgtap_overlap', '203.0.113.11') as overlap \gset
update treasury.webhook_rejections set first_seen = now() + interval '1 second', last_seen = now() + interval '2 seconds'
where id = :overlap;
select lives_ok($$select pg_temp.probe('pgtap_overlap', '203.0.113.11')$$,
                'a delivery that began before the row''s first sighting still counts');
select is((select (hits, first_seen, last_seen)::text from treasury.webhook_rejections where id = :overlap),
          (select (2, now(), now() + interval '2 seconds')::text),
          'its count goes up and the span now starts when it began');

-- Pruning: noise and evidence each have their own age and cap.
update treasury.webhook_rejections set first_seen = now() - interval '40 days', last_seen = now() - interval '31 days'
where id = :delivery;
select pg_temp.probe('pgtap_old_noise', '203.0.113.9') as old_noise \gset
update treasury.webhook_rejections set first_seen = now() - interval '31 days', last_seen = now() - interval '31 days'
where id = :old_noise;
select ok(treasury_private.prune_webhook_rejections() >= 1, 'the prune job runs with its defaults');
select is((select count(*) from treasury.webhook_rejections where id = :old_noise), 0::bigint, 'noise last seen 31 days ago is gone');
select is((select count(*) from treasury.webhook_rejections where id = :delivery), 1::bigint,
          'evidence of a signed delivery 31 days ago stays (90 days)');

-- Everything unsigned was last seen an hour ago, but one source probed again just now.
update treasury.webhook_rejections set first_seen = least(first_seen, now() - interval '1 hour'), last_seen = now() - interval '1 hour'
where not signed;
select pg_temp.probe('pgtap_spoof', '198.51.0.1') as probed_again \gset
select treasury_private.prune_webhook_rejections(noise_max_rows => 10, evidence_max_rows => 100000) as pruned \gset
select is((select count(*) from treasury.webhook_rejections where not signed), 10::bigint,
          'a flood of unsigned rows is cut to its own cap');
select is((select count(*) from treasury.webhook_rejections where id = :delivery), 1::bigint, 'and never takes evidence with it');
select is((select count(*) from treasury.webhook_rejections where not signed and code = 'pgtap_spoof' and source = '198.51.0.1'),
          1::bigint, 'the cap keeps the most recently seen');

select * from finish();
rollback;
