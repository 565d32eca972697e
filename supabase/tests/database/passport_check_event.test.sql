-- Passport: passport.check_event gives the codes and messages of
-- buckets_core::passport::check_event, in the same order. The expected values
-- below are what the Rust validator answers for the same input.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(28);

-- Kinds for what the real catalog does not exercise: every field type, and a
-- payload that can be valid yet too large.
insert into passport.event_kinds (name, family, description, domains, tier, weight, needs_artist, producers, fields)
values
  ('test.types', 'test', 'every field type', '{}', 1, 0.1, false, '{app}',
   '[{"name": "s", "type": "string", "required": false, "min": null},
     {"name": "i", "type": "integer", "required": false, "min": null},
     {"name": "q", "type": "integer", "required": false, "min": 1},
     {"name": "n", "type": "number", "required": false, "min": null},
     {"name": "n0", "type": "number", "required": false, "min": 0},
     {"name": "b", "type": "boolean", "required": false, "min": null},
     {"name": "u", "type": "uuid", "required": false, "min": null},
     {"name": "t", "type": "timestamp", "required": false, "min": null},
     {"name": "c", "type": "currency", "required": false, "min": null},
     {"name": "k", "type": "country", "required": false, "min": null}]'),
  ('test.wide', 'test', 'seventy text fields', '{}', 1, 0.1, false, '{app}',
   (select jsonb_agg(jsonb_build_object('name', format('f%s', g), 'type', 'string', 'required', false, 'min', null) order by g)
    from generate_series(10, 79) as g));

create function pg_temp.check(kind text, source text, artist boolean, payload jsonb,
                              occurred_at timestamptz default now(), received_at timestamptz default now())
returns text[] language sql as $$
  select array[c.code, c.message]
  from passport.check_event(kind, source, case when artist then 'b0000000-0000-4000-8000-000000000001'::uuid end,
                            payload, occurred_at, received_at) as c
$$;

-- Each rule, its code and its message ------------------------------------------------

select is(
  pg_temp.check('audio.play', 'app', true,
    '{"track_id": "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f", "duration_ms": 31000, "genre": "afrobeats", "country": "NG"}'),
  array[null, null]::text[],
  'a valid play is accepted'
);
select is(pg_temp.check('audio.plya', 'app', true, '{}'),
  array['unknown_kind', 'unknown event kind "audio.plya"'], 'unknown_kind');
select is(pg_temp.check('treasury.money_spent', 'app', false, '{}'),
  array['forbidden_kind', 'treasury.money_spent is not accepted from source app'], 'forbidden_kind');
select is(pg_temp.check('audio.play', 'bank', true, '{}'),
  array['forbidden_kind', 'audio.play is not accepted from source bank'], 'a source outside the five is forbidden too');
select is(pg_temp.check('audio.play', 'app', false, '{}'),
  array['artist_required', 'audio.play needs artist_id'], 'artist_required');
select is(pg_temp.check('audio.play', 'app', true, '{"track_id": "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"}'),
  array['missing_field', 'payload.duration_ms is required for audio.play'], 'missing_field');
select is(pg_temp.check('audio.play', 'app', true, '{"track_id": "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f", "duration_ms": -1}'),
  array['invalid_field', 'payload.duration_ms must be an integer >= 0'], 'invalid_field');
select is(pg_temp.check('audio.play', 'app', true, '{"track_id": "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f", "duration_ms": null}'),
  array['invalid_field', 'payload.duration_ms must be an integer >= 0'], 'JSON null is present and invalid, not missing');
select is(pg_temp.check('audio.play', 'app', true,
    '{"track_id": "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f", "duration_ms": 1, "zz": 1, "mood": "x"}'),
  array['unknown_field', 'payload.mood is not a field of audio.play'], 'unknown_field names the smallest undeclared key');
select is(pg_temp.check('social.follow', 'app', true, '{"é": 1, "z": 1}'),
  array['unknown_field', 'payload.z is not a field of social.follow'], 'keys compare byte-wise: z (0x7a) before é (0xc3)');
select is(pg_temp.check('social.follow', 'app', true, '{"alpha": 1, "Zeta": 1}'),
  array['unknown_field', 'payload.Zeta is not a field of social.follow'], 'keys compare byte-wise: Z before a');
select is(pg_temp.check('audio.skip', 'app', true, '{"track_id": "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"}',
                        '2026-11-22T10:05:00.000001Z', '2026-11-22T10:00:00Z'),
  array['occurred_in_future', 'occurred_at is more than 5 minutes in the future'], 'occurred_in_future');
select is(pg_temp.check('audio.skip', 'app', true, '{"track_id": "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f"}',
                        '2026-11-22T10:05:00Z', '2026-11-22T10:00:00Z'),
  array[null, null]::text[], 'exactly 5 minutes ahead is accepted');
select is(pg_temp.check('audio.skip', 'app', true, '[]'),
  array['invalid_field', 'payload must be a JSON object'], 'a payload that is not an object is refused first');
select is(
  pg_temp.check('test.wide', 'app', false,
    (select jsonb_object_agg(format('f%s', g), repeat('x', 500)) from generate_series(10, 79) as g)),
  array['payload_too_large', 'payload is larger than 32768 bytes'], 'payload_too_large');
select is(
  pg_temp.check('test.wide', 'app', false,
    (select jsonb_object_agg(format('f%s', g), repeat('x', 500)) from generate_series(10, 69) as g)),
  array[null, null]::text[], 'a large payload under 32768 bytes is accepted');

-- First failure wins ---------------------------------------------------------------

select is(pg_temp.check('treasury.money_spent', 'app', false, '{"zz": 1}'),
  array['forbidden_kind', 'treasury.money_spent is not accepted from source app'], 'the source is checked before the fields');
select is(pg_temp.check('audio.play', 'app', false, '{"zz": 1}'),
  array['artist_required', 'audio.play needs artist_id'], 'the artist is checked before the fields');
select is(pg_temp.check('audio.play', 'app', true, '{"track_id": 5, "duration_ms": "long"}'),
  array['invalid_field', 'payload.track_id must be a UUID'], 'fields are checked in declared order');
select is(pg_temp.check('audio.play', 'app', true, '{"zz": 1}'),
  array['missing_field', 'payload.track_id is required for audio.play'], 'declared fields come before unknown keys');
select is(pg_temp.check('audio.play', 'app', true, '{"track_id": "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f", "duration_ms": 1, "zz": 1}',
                        now() + interval '1 hour', now()),
  array['unknown_field', 'payload.zz is not a field of audio.play'], 'unknown keys come before the time check');

-- What each type expects, in the message -----------------------------------------------

select results_eq(
  $$select f.payload, (pg_temp.check('test.types', 'app', false, f.payload::jsonb))[2]
    from (values ('{"s": ""}'), ('{"i": 1.5}'), ('{"q": 0}'), ('{"n": "1"}'), ('{"n0": -0.5}'), ('{"b": 0}'),
                 ('{"u": "x"}'), ('{"t": "2026-11-22"}'), ('{"c": "eur"}'), ('{"k": "NGA"}')) as f(payload)$$,
  $$values ('{"s": ""}', 'payload.s must be a string of 1 to 500 characters'),
           ('{"i": 1.5}', 'payload.i must be an integer'),
           ('{"q": 0}', 'payload.q must be an integer >= 1'),
           ('{"n": "1"}', 'payload.n must be a number'),
           ('{"n0": -0.5}', 'payload.n0 must be a number >= 0'),
           ('{"b": 0}', 'payload.b must be true or false'),
           ('{"u": "x"}', 'payload.u must be a UUID'),
           ('{"t": "2026-11-22"}', 'payload.t must be an RFC 3339 timestamp'),
           ('{"c": "eur"}', 'payload.c must be an ISO 4217 currency code (3 capital letters)'),
           ('{"k": "NGA"}', 'payload.k must be an ISO 3166-1 alpha-2 country code (2 capital letters)')$$,
  'each field type says what it expects'
);

-- The value rules, edge by edge (Rust's answers; numbers as serde_json writes them) --------

select results_eq(
  $$select t.type, t.min, t.value, passport_private.value_fits(t.type, t.min, t.value::jsonb)
    from (values
      ('integer', 0::bigint, '0'), ('integer', 0, '5.0'), ('integer', 0, '1000.0'), ('integer', 0, '5.5'),
      ('integer', 0, '-1'), ('integer', 0, '"5"'), ('integer', 0, 'null'),
      ('integer', null, '9223372036854775807'), ('integer', null, '9223372036854775808'),
      ('integer', null, '-9223372036854775808'), ('integer', null, '-9.223372036854776e+18'),
      ('integer', null, '9.223372036854776e+18'), ('integer', null, '18446744073709551615'),
      ('integer', null, '-0.0'), ('integer', 1, '0'), ('integer', 1, '1'),
      ('number', null, '-2.5'), ('number', 0, '-0.0'), ('number', 0, '-9.999999999999999e-31'), ('number', null, '1e+300'),
      ('boolean', null, 'false'), ('boolean', null, '0'),
      ('uuid', null, '"6F1C1F5E-8A7B-4C1D-9E2F-0A1B2C3D4E5F"'), ('uuid', null, '"6f1c1f5e8a7b4c1d9e2f0a1b2c3d4e5f"'),
      ('uuid', null, '"{6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f}"'),
      ('currency', null, '"EUR"'), ('currency', null, '"eur"'), ('currency', null, '"EURO"'),
      ('country', null, '"NG"'), ('country', null, '"NGA"'),
      ('string', null, '""'), ('string', null, '"x"'),
      ('string', null, to_jsonb(repeat('é', 500))::text), ('string', null, to_jsonb(repeat('a', 501))::text)
    ) as t(type, min, value)$$,
  $$values
      ('integer', 0::bigint, '0', true), ('integer', 0, '5.0', true), ('integer', 0, '1000.0', true), ('integer', 0, '5.5', false),
      ('integer', 0, '-1', false), ('integer', 0, '"5"', false), ('integer', 0, 'null', false),
      ('integer', null, '9223372036854775807', true), ('integer', null, '9223372036854775808', false),
      ('integer', null, '-9223372036854775808', true), ('integer', null, '-9.223372036854776e+18', true),
      ('integer', null, '9.223372036854776e+18', false), ('integer', null, '18446744073709551615', false),
      ('integer', null, '-0.0', true), ('integer', 1, '0', false), ('integer', 1, '1', true),
      ('number', null, '-2.5', true), ('number', 0, '-0.0', true), ('number', 0, '-9.999999999999999e-31', false), ('number', null, '1e+300', true),
      ('boolean', null, 'false', true), ('boolean', null, '0', false),
      ('uuid', null, '"6F1C1F5E-8A7B-4C1D-9E2F-0A1B2C3D4E5F"', true), ('uuid', null, '"6f1c1f5e8a7b4c1d9e2f0a1b2c3d4e5f"', false),
      ('uuid', null, '"{6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f}"', false),
      ('currency', null, '"EUR"', true), ('currency', null, '"eur"', false), ('currency', null, '"EURO"', false),
      ('country', null, '"NG"', true), ('country', null, '"NGA"', false),
      ('string', null, '""', false), ('string', null, '"x"', true),
      ('string', null, to_jsonb(repeat('é', 500))::text, true), ('string', null, to_jsonb(repeat('a', 501))::text, false)$$,
  'each value rule answers as validate.rs does'
);

select ok(
  passport_private.value_fits('number', null, '1e400') is false
  and passport_private.value_fits('number', 0, '-1e-400') is true
  and passport_private.value_fits('integer', null, '123456789012345678901234567890') is false,
  'numbers beyond f64 are refused and underflow to zero as f64 does, without an error'
);

-- Timestamps: RFC 3339 as chrono reads it, with validate.rs's shape -----------------------

select results_eq(
  $$select s, passport_private.is_rfc3339(s)
    from unnest(array[
      '2026-11-22T10:00:00Z', '2026-11-22 10:00:00.123456+01:00', '2026-11-22t10:00:00z', '2026-11-22T23:59:60Z',
      '2026-11-22T10:00:00+23:59', '2024-02-29T00:00:00Z', '0001-01-01T00:00:00+01:00',
      '2026-13-22T10:00:00Z', '2026-11-22T10:00:00', '2026-11-22', '2026-11-22T24:00:00Z', '2026-11-22T10:00:00+24:00',
      '2023-02-29T00:00:00Z', '2026-04-31T10:00:00Z', '0000-06-01T00:00:00Z', '2026-11-22T10:00:00.1234567890Z',
      '2026-11-22T10:60:00Z', '2026-11-22T10:00:00+01:60', '2026-11-22T10:00:00+0100', '2026-11-22T10:00:00Z '
    ]) as s$$,
  $$values ('2026-11-22T10:00:00Z', true), ('2026-11-22 10:00:00.123456+01:00', true), ('2026-11-22t10:00:00z', true),
           ('2026-11-22T23:59:60Z', true), ('2026-11-22T10:00:00+23:59', true), ('2024-02-29T00:00:00Z', true),
           ('0001-01-01T00:00:00+01:00', true),
           ('2026-13-22T10:00:00Z', false), ('2026-11-22T10:00:00', false), ('2026-11-22', false),
           ('2026-11-22T24:00:00Z', false), ('2026-11-22T10:00:00+24:00', false), ('2023-02-29T00:00:00Z', false),
           ('2026-04-31T10:00:00Z', false), ('0000-06-01T00:00:00Z', false), ('2026-11-22T10:00:00.1234567890Z', false),
           ('2026-11-22T10:60:00Z', false), ('2026-11-22T10:00:00+01:60', false), ('2026-11-22T10:00:00+0100', false),
           ('2026-11-22T10:00:00Z ', false)$$,
  'timestamp validity matches chrono with validate.rs''s shape'
);

select results_eq(
  $$select passport_private.parse_rfc3339(s)
    from unnest(array['1970-01-01T00:00:01.5Z', '1970-01-01T01:00:00+01:00', '1970-01-01T00:00:00.0000019Z',
                      '2026-11-22T23:59:60.5-23:59', '2026-11-22 10:00:00.123456+01:00']) with ordinality as t(s, n)
    order by n$$,
  $$values ('1970-01-01T00:00:01.5Z'::timestamptz), ('1970-01-01T00:00:00Z'), ('1970-01-01T00:00:00.000001Z'),
           ('2026-11-23T23:59:00.5Z'), ('2026-11-22T09:00:00.123456Z')$$,
  'timestamps convert as chrono''s timestamp_micros: fractions cut to microseconds, leap second rolls over, any offset up to 23:59'
);

select is(passport_private.parse_rfc3339(null), null, 'null is not a timestamp');

-- check_event is the same function for every caller ---------------------------------

set local role anon;
select is(
  (select array[c.code, c.message] from passport.check_event('audio.plya', 'app', null, '{}') as c),
  array['unknown_kind', 'unknown event kind "audio.plya"'],
  'anon may call check_event (it needs no grant on passport_private)'
);
reset role;

select * from finish();
rollback;
