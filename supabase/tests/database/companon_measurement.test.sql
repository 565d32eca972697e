-- Companon measurement: views, clicks and conversions logged to Passport are queued by the trigger and
-- counted by companon_private.measure_pending once each, per campaign and UTC day, only while the campaign
-- ran; conversions by last touch (a click within 7 days, else a view within 1 day, among the brand's
-- campaigns), unattributed otherwise; campaign_results, campaign_lift (on a constructed score history) and
-- admin_overview, and who may read them (docs/companon.md#measurement).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(72);
\ir companon_helpers.psql

-- The artist whose content carried the campaign (the kinds need one).
select set_config('test.artist', gen_random_uuid()::text, true) as _artist \gset

-- One event as the platform logs it (privileged: it may backdate): views and clicks from the app,
-- conversions from companon. Returns the entry id.
create function pg_temp.ev(fan uuid, kind text, campaign uuid, at timestamptz, extra jsonb default '{}',
                           cid text default null)
returns bigint
language sql
as $$
  select passport.log(fan, 'companon.campaign_' || kind, coalesce(cid, gen_random_uuid()::text),
                      jsonb_build_object('campaign_id', campaign) || extra,
                      current_setting('test.artist')::uuid, at,
                      case when kind = 'converted' then 'companon' else 'app' end)
$$;

-- A campaign of brand_id scheduled from now() - 20 days for 30 days, approved (by the platform) with its
-- transitions dated: created and submitted 21 days ago, approved 20 days ago.
create function pg_temp.running(brand_id uuid, name text)
returns uuid
language plpgsql
as $$
declare
  c uuid := companon.create_campaign(brand_id, name, 'conversions', 500000, 'EUR', now() - interval '20 days',
                                     now() + interval '10 days', '{"domains": {"A": 1}}',
                                     '[{"url": "https://acme.example/summer"}]');
begin
  perform companon.transition_campaign(c, 'submit');
  perform companon.transition_campaign(c, 'approve');
  update companon.campaign_transitions set at = now() - interval '21 days' where campaign_id = c and action <> 'approve';
  update companon.campaign_transitions set at = now() - interval '20 days' where campaign_id = c and action = 'approve';
  return c;
end
$$;

-- Runs the job in batches of size until the queue is empty; returns how many entries it took.
create function pg_temp.drain(size int)
returns int
language plpgsql
as $$
declare
  n int;
  total int := 0;
begin
  loop
    n := companon_private.measure_pending(size);
    exit when n = 0;
    total := total + n;
  end loop;
  return total;
end
$$;

-- The UTC day of now() - the interval.
create function pg_temp.day(ago interval) returns date language sql stable as $$
  select ((now() - ago) at time zone 'UTC')::date
$$;

grant execute on function pg_temp.day(interval) to public;

select pg_temp.running(:'brand', 'Summer') as a, pg_temp.running(:'brand', 'Autumn') as b,
       pg_temp.running(:'other_brand', 'Elsewhere') as o \gset
-- a was paused from 10 to 8 days ago.
select companon.transition_campaign(:'a', 'pause') as _paused, companon.transition_campaign(:'a', 'resume') as _resumed \gset
update companon.campaign_transitions set at = now() - interval '10 days' where campaign_id = :'a' and action = 'pause';
update companon.campaign_transitions set at = now() - interval '8 days' where campaign_id = :'a' and action = 'resume';
-- d never ran: a draft.
select companon.create_campaign(:'brand', 'Draft', 'awareness', 1000, 'EUR', now() - interval '20 days',
                                now() + interval '10 days', '{"domains": {"A": 1}}') as d \gset

select gen_random_uuid() as u1, gen_random_uuid() as u2, gen_random_uuid() as u3, gen_random_uuid() as u4,
       gen_random_uuid() as u5, gen_random_uuid() as u6, gen_random_uuid() as u7, gen_random_uuid() as u8,
       gen_random_uuid() as u9, gen_random_uuid() as u10 \gset

-- The trigger --------------------------------------------------------------------------------------------
select is((select count(*)::int from companon_private.measure_queue), 0, 'the queue starts empty');
select pg_temp.ev(:'u1', 'viewed', :'a', now() - interval '15 days', cid => 'view-1') as first_view \gset
select is((select array_agg(entry_id) from companon_private.measure_queue), array[:'first_view']::bigint[],
          'a view is queued as it is stored');
select is(pg_temp.ev(:'u1', 'viewed', :'a', now() - interval '15 days', cid => 'view-1'), :'first_view'::bigint,
          'the same client_event_id again is the stored entry');
select is((select count(*)::int from companon_private.measure_queue), 1, 'and is not queued twice');
select passport.log(:'u1', 'audio.play', 'play-1', jsonb_build_object('track_id', gen_random_uuid(), 'duration_ms', 40000),
                    current_setting('test.artist')::uuid) as _play \gset
select is((select count(*)::int from companon_private.measure_queue), 1, 'other kinds are not queued');

-- Views and clicks -------------------------------------------------------------------------------------
select pg_temp.ev(:'u1', 'viewed', :'a', now() - interval '15 days') as _v,
       pg_temp.ev(:'u2', 'viewed', :'a', now() - interval '15 days') as _v,
       pg_temp.ev(:'u1', 'clicked', :'a', now() - interval '15 days') as _c,
       -- paused
       pg_temp.ev(:'u1', 'viewed', :'a', now() - interval '9 days') as _v,
       pg_temp.ev(:'u3', 'clicked', :'a', now() - interval '9 days') as _c,
       -- before it was approved and started
       pg_temp.ev(:'u2', 'viewed', :'a', now() - interval '25 days') as _v,
       -- a draft
       pg_temp.ev(:'u1', 'viewed', :'d', now() - interval '15 days') as _v,
       -- no such campaign
       pg_temp.ev(:'u1', 'viewed', gen_random_uuid(), now() - interval '15 days') as _v \gset

-- Conversions ------------------------------------------------------------------------------------------
-- u4: clicks on a, then on b; converts naming a: the last click wins (b).
select pg_temp.ev(:'u4', 'clicked', :'a', now() - interval '6 days') as _c,
       pg_temp.ev(:'u4', 'clicked', :'b', now() - interval '5 days') as _c,
       pg_temp.ev(:'u4', 'converted', :'a', now() - interval '4 days', '{"amount_minor": 1000, "currency": "EUR"}',
                  cid => 'order-4') as conv4 \gset
-- Sent twice: counted once.
select is(pg_temp.ev(:'u4', 'converted', :'a', now() - interval '4 days', '{"amount_minor": 1000, "currency": "EUR"}',
                     cid => 'order-4'), :'conv4'::bigint, 'a conversion sent again is the stored entry');
-- u5: clicked a, then viewed b, converts naming b: a click beats a later view (a).
select pg_temp.ev(:'u5', 'clicked', :'a', now() - interval '3 days') as _c,
       pg_temp.ev(:'u5', 'viewed', :'b', now() - interval '2 days 1 hour') as _v,
       pg_temp.ev(:'u5', 'converted', :'b', now() - interval '2 days', '{"amount_minor": 500, "currency": "USD"}') as _x \gset
-- u6: viewed b two hours before converting: a view-through conversion of b (an amount written 700.0 is 700).
select pg_temp.ev(:'u6', 'viewed', :'b', now() - interval '2 days 2 hours') as _v,
       pg_temp.ev(:'u6', 'converted', :'b', now() - interval '2 days', '{"amount_minor": 700.0, "currency": "EUR"}') as _x \gset
-- u7: a click 8 days before: outside the 7-day window, unattributed (a).
select pg_temp.ev(:'u7', 'clicked', :'a', now() - interval '14 days') as _c,
       pg_temp.ev(:'u7', 'converted', :'a', now() - interval '6 days', '{"amount_minor": 300, "currency": "EUR"}') as _x \gset
-- u8: a view 2 days before: outside the 1-day window, unattributed (a).
select pg_temp.ev(:'u8', 'viewed', :'a', now() - interval '4 days') as _v,
       pg_temp.ev(:'u8', 'converted', :'a', now() - interval '2 days') as _x \gset
-- u9: clicked another brand's campaign, converts naming a: unattributed (a), nothing for o.
select pg_temp.ev(:'u9', 'clicked', :'o', now() - interval '3 days') as _c,
       pg_temp.ev(:'u9', 'converted', :'a', now() - interval '2 days') as _x \gset
-- u10: clicked a while it was paused: that touch does not count, unattributed (a); an amount without a
-- currency counts the conversion and no value.
select pg_temp.ev(:'u10', 'clicked', :'a', now() - interval '9 days') as _c,
       pg_temp.ev(:'u10', 'converted', :'a', now() - interval '8 days 12 hours', '{"amount_minor": 900}') as _x \gset
-- A conversion naming no campaign counts nowhere.
select pg_temp.ev(:'u10', 'converted', gen_random_uuid(), now() - interval '2 days') as _x \gset

select is((select count(*)::int from companon_private.measure_queue), 26, 'every view, click and conversion is queued');
select is(pg_temp.drain(4), 26, 'the job takes them all, 4 at a time');
select is(companon_private.measure_pending(), 0, 'and then finds none');
select throws_ok('select companon_private.measure_pending(0)', '22023', 'max_entries must be at least 1, got 0');

select is((select row(impressions, reach, clicks, impressions_outside_run, clicks_outside_run)::text
           from companon.campaign_days where campaign_id = :'a' and day = pg_temp.day('15 days')),
          '(3,2,1,0,0)', 'a, 15 days ago: 3 views by 2 users and a click while it ran');
select is((select row(impressions, reach, clicks, impressions_outside_run, clicks_outside_run)::text
           from companon.campaign_days where campaign_id = :'a' and day = pg_temp.day('9 days')),
          '(0,0,0,1,2)', 'paused: a view and two clicks counted outside the run only');
select is((select row(impressions, impressions_outside_run)::text
           from companon.campaign_days where campaign_id = :'a' and day = pg_temp.day('25 days')),
          '(0,1)', 'before its start: outside the run');
select is((select row(impressions, impressions_outside_run)::text from companon.campaign_days where campaign_id = :'d'),
          '(0,1)', 'a draft never runs');

select is((select array_agg(row(c.touch, c.campaign_id = :'b')::text order by c.entry_id)
           from companon_private.conversions as c where c.user_id = :'u4'),
          array['(click,t)'], 'u4: the last click wins, b, though the conversion named a');
select is((select row(c.touch, c.campaign_id = :'a', c.named_campaign_id = :'b')::text
           from companon_private.conversions as c where c.user_id = :'u5'),
          '(click,t,t)', 'u5: a click within 7 days beats a later view: a');
select is((select row(c.touch, c.campaign_id = :'b')::text from companon_private.conversions as c where c.user_id = :'u6'),
          '(view,t)', 'u6: a view within a day: b');
select is((select array_agg(row(c.user_id, c.touch, c.campaign_id = :'a')::text order by c.entry_id)
           from companon_private.conversions as c where c.user_id in (:'u7', :'u8', :'u9', :'u10')),
          array[row(:'u7'::uuid, null::text, true)::text, row(:'u8'::uuid, null::text, true)::text,
                row(:'u9'::uuid, null::text, true)::text, row(:'u10'::uuid, null::text, true)::text],
          'a click 8 days old, a view 2 days old, another brand''s click, a click while paused: unattributed, on a');
select is((select count(*)::int from companon_private.conversions
           where user_id in (:'u1', :'u2', :'u3', :'u4', :'u5', :'u6', :'u7', :'u8', :'u9', :'u10')), 7,
          'seven conversions, none twice, none for no campaign');
select is((select coalesce(sum(conversions + unattributed_conversions), 0)::int from companon.campaign_days
           where campaign_id = :'o'), 0, 'the other brand''s campaign gets nothing');

select is((select row(conversions, click_conversions, view_conversions, unattributed_conversions)::text
           from companon.campaign_days where campaign_id = :'b' and day = pg_temp.day('4 days')),
          '(1,1,0,0)', 'b, 4 days ago: u4''s click conversion');
select is((select row(conversions, click_conversions, view_conversions, unattributed_conversions)::text
           from companon.campaign_days where campaign_id = :'b' and day = pg_temp.day('2 days')),
          '(1,0,1,0)', 'b, 2 days ago: u6''s view conversion');
select is((select row(conversions, click_conversions, unattributed_conversions)::text
           from companon.campaign_days where campaign_id = :'a' and day = pg_temp.day('2 days')),
          '(1,1,2)', 'a, 2 days ago: u5''s click conversion, u8''s and u9''s unattributed');
select is((select array_agg(row(day = pg_temp.day('4 days'), currency, attributed_minor, unattributed_minor)::text
                            order by day, currency)
           from companon.campaign_day_values where campaign_id = :'b'),
          array['(t,EUR,1000,0)', '(f,EUR,700,0)'], 'b''s value: per day and currency');
select is((select array_agg(row(currency, attributed_minor, unattributed_minor)::text order by day, currency)
           from companon.campaign_day_values where campaign_id = :'a'),
          array['(EUR,0,300)', '(USD,500,0)'], 'a''s: u7''s unattributed EUR, u5''s USD; no value without a currency');

-- Reads ------------------------------------------------------------------------------------------------
select is((select count(*)::int from companon.campaign_results(:'a')), 32,
          'results default to the schedule: the 31 UTC days it touches, and the totals');
select is((select row(impressions, reach, clicks, ctr, conversions, click_conversions, view_conversions,
                      unattributed_conversions, conversion_value, unattributed_value, impressions_outside_run,
                      clicks_outside_run)::text
           from companon.campaign_results(:'a', pg_temp.day('15 days'), pg_temp.day('15 days')) where day is not null),
          row(3, 2, 1, 0.3333, 0, 0, 0, 0, '[]'::jsonb, '[]'::jsonb, 0, 0)::text, 'a day of a');
select is((select row(impressions, reach, clicks, ctr, conversions, click_conversions, view_conversions,
                      unattributed_conversions, conversion_value, unattributed_value, impressions_outside_run,
                      clicks_outside_run)::text
           from companon.campaign_results(:'a', pg_temp.day('30 days'), pg_temp.day('0 days')) where day is null),
          row(3 + 1, 6, 1 + 3, 1.0000, 1, 1, 0, 4, '[{"currency": "USD", "amount_minor": 500}]'::jsonb,
              '[{"currency": "EUR", "amount_minor": 300}]'::jsonb, 2, 2)::text,
          'a''s totals: u8''s view, u4''s, u5''s and u7''s clicks too; reach counts each of the 6 users once');
select is((select array_agg(day order by day nulls last)
           from companon.campaign_results(:'b', pg_temp.day('4 days'), pg_temp.day('2 days'))),
          array[pg_temp.day('4 days'), pg_temp.day('3 days'), pg_temp.day('2 days'), null],
          'every day of the range, then the totals');
select is((select row(impressions, ctr, conversions, conversion_value)::text
           from companon.campaign_results(:'b', pg_temp.day('7 days'), pg_temp.day('7 days')) where day is not null),
          row(0, null::numeric, 0, '[]'::jsonb)::text, 'a quiet day is zeros, no ctr');
select is((select conversion_value from companon.campaign_results(:'b', pg_temp.day('4 days'), pg_temp.day('2 days'))
           where day is null),
          '[{"currency": "EUR", "amount_minor": 1700}]', 'values add up per currency');
select throws_ok(format('select * from companon.campaign_results(%L, %L, %L)', :'a', pg_temp.day('1 day'), pg_temp.day('2 days')),
                 '22023', format('to_day (%s) is before from_day (%s)', pg_temp.day('2 days'), pg_temp.day('1 day')));
select throws_ok(format($$select * from companon.campaign_results(%L, '2026-01-01', '2028-01-02')$$, :'a'),
                 '22023', 'the range 2026-01-01 to 2028-01-02 is 732 days: ask for at most 731');
select throws_ok(format('select * from companon.campaign_results(%L)', gen_random_uuid()), 'P0002', null,
                 'an unknown campaign is not found');

select is((select row(draft, active, paused, impressions, clicks, conversions, unattributed_conversions, conversion_value)::text
           from companon.admin_overview(pg_temp.day('30 days'), pg_temp.day('0 days')) where brand_id = :'brand'),
          row(1, 2, 0, 6, 5, 3, 4, '[{"currency": "EUR", "amount_minor": 1700}, {"currency": "USD", "amount_minor": 500}]'::jsonb)::text,
          'the overview: the brand''s campaigns per state and its numbers');
select is((select row(active, impressions, clicks, conversions)::text
           from companon.admin_overview(pg_temp.day('30 days'), pg_temp.day('0 days')) where brand_id = :'other_brand'),
          '(1,0,1,0)', 'and the other brand''s');
select is((select clicks from companon.admin_overview(pg_temp.day('5 days'), pg_temp.day('5 days')) where brand_id = :'brand'),
          1::bigint, 'over its range only');
select throws_ok($$select * from companon.admin_overview(null, '2026-01-01')$$, '22023', 'from_day and to_day must be dates');

-- DNA lift ---------------------------------------------------------------------------------------------
-- artist2 accepted an offer of campaign b 10 days ago; their 7d overall score rose 0.5 a day for the 28 days
-- before, and since then runs 5 points above that line. A: 5 days of history only. artist3 declined.
select gen_random_uuid() as artist2, gen_random_uuid() as artist3 \gset
insert into companon.offers (campaign_id, brand_id, artist_id, amount_minor, currency, terms, state, expires_at,
                             created_at, accepted_at)
values (:'b', :'brand', :'artist2', 100000, 'EUR', 'Two posts a week', 'accepted', now() + interval '5 days',
        now() - interval '11 days', now() - interval '10 days');
insert into companon.offers (campaign_id, brand_id, artist_id, amount_minor, currency, terms, state, expires_at,
                             created_at, reason)
values (:'b', :'brand', :'artist3', 100000, 'EUR', 'Two posts a week', 'declined', now() + interval '5 days',
        now() - interval '11 days', 'busy');
insert into coliseum.strength_history (day, artist_id, domain, period, score, raw)
select pg_temp.day('10 days') + t, :'artist2', 'overall', '7d', 20 + 0.5 * t + case when t >= 0 then 5 else 0 end, 0
from generate_series(-28, 10) as t;
insert into coliseum.strength_history (day, artist_id, domain, period, score, raw)
select pg_temp.day('10 days') + t, :'artist2', 'A', '7d', 30, 0 from generate_series(-5, 10) as t;

select is((select array_agg(row(artist_id = :'artist2', domain)::text) from companon.campaign_lift(:'b')),
          array['(t,overall)', '(t,A)', '(t,T)', '(t,G)', '(t,C)'],
          'one row per domain of each sponsored artist, the declined offer left out');
select is((select row(sponsored_from, sponsored_to, baseline_days, round(baseline_slope::numeric, 6), during_days,
                      round(during_slope::numeric, 6), round(observed::numeric, 6), round(projected::numeric, 6),
                      round(lift::numeric, 6), note)::text
           from companon.campaign_lift(:'b') where domain = 'overall'),
          row(pg_temp.day('10 days'), pg_temp.day('0 days'), 28, 0.500000, 11, 0.500000, 27.500000, 22.500000, 5.000000,
              null::text)::text,
          'overall: the trend before projected over the sponsored days, 5 points of lift');
select is((select row(baseline_days, during_days, lift, note)::text from companon.campaign_lift(:'b') where domain = 'A'),
          row(5, 11, null::float8, '5 of the 28 days before the sponsorship have a score: 7 are needed for a trend')::text,
          'too little history: no lift, and why');
select is((select row(baseline_days, during_days, lift, note)::text from companon.campaign_lift(:'b') where domain = 'T'),
          row(0, 0, null::float8, 'the sponsorship has no day with a score yet')::text, 'no history at all');
select is((select round(lift::numeric, 6) from companon.campaign_lift(:'b', '30d') where domain = 'overall'), null,
          'the period is chosen: no 30d history, no lift');
select throws_ok(format($$select * from companon.campaign_lift(%L, '1d')$$, :'b'), '22023', 'period must be 7d, 30d or alltime');
select is((select count(*)::int from companon.campaign_lift(:'a')), 0, 'a campaign without sponsored artists has no rows');

-- Who reads what ---------------------------------------------------------------------------------------
select pg_temp.act_as_role('anon');
select throws_ok(format('select * from companon.campaign_results(%L)', :'a'), '42501',
                 'permission denied for function campaign_results', 'anon reads no results');
select throws_ok(format('select * from companon.campaign_lift(%L)', :'a'), '42501',
                 'permission denied for function campaign_lift', 'no lift');
select throws_ok($$select * from companon.admin_overview('2026-01-01', '2026-01-02')$$, '42501',
                 'permission denied for function admin_overview', 'no overview');
select throws_ok('select count(*) from companon.campaign_days', '42501', 'permission denied for table campaign_days',
                 'no days');
select throws_ok('select count(*) from companon.campaign_day_values', '42501',
                 'permission denied for table campaign_day_values', 'no values');
reset role;

create function pg_temp.reads(who uuid, out results int, out lift int, out days int, out vals int)
language plpgsql
as $$
begin
  perform pg_temp.act_as(who);
  select count(*) into results from companon.campaign_results(current_setting('test.b')::uuid);
  select count(*) into lift from companon.campaign_lift(current_setting('test.b')::uuid);
  select count(*) into days from companon.campaign_days;
  select count(*) into vals from companon.campaign_day_values;
  reset role;
end
$$;
select set_config('test.b', :'b', true) as _b \gset
select count(*) as brand_days from companon.campaign_days where brand_id = :'brand' \gset
select count(*) as brand_vals from companon.campaign_day_values where brand_id = :'brand' \gset
select count(*) as all_days from companon.campaign_days \gset

select is(pg_temp.reads(:'owner')::text, row(32, 5, :'brand_days', :'brand_vals')::text,
          'the owner reads the results, the lift and the brand''s rows');
select is(pg_temp.reads(:'manager')::text, row(32, 5, :'brand_days', :'brand_vals')::text, 'so does a manager');
select is(pg_temp.reads(:'viewer')::text, row(32, 5, :'brand_days', :'brand_vals')::text, 'and a viewer');
select pg_temp.act_as(:'owner');
select is((select array_agg(distinct brand_id) from companon.campaign_days), array[:'brand']::uuid[],
          'only their brand''s days');
reset role;

select pg_temp.act_as(:'other_owner');
select throws_ok(format('select * from companon.campaign_results(%L)', :'b'), 'P0002', format('campaign %s not found', :'b'),
                 'another brand''s owner: not found');
select throws_ok(format('select * from companon.campaign_lift(%L)', :'b'), 'P0002', format('campaign %s not found', :'b'),
                 'its lift neither');
select is((select count(*)::int from companon.campaign_days where brand_id = :'brand'), 0, 'none of its days');
select is((select count(*)::int from companon.campaign_results(:'o')), 32, 'their own results, yes');
select throws_ok($$select * from companon.admin_overview('2026-01-01', '2026-01-02')$$, '42501',
                 'only an admin reads the overview across brands', 'no overview for a brand owner');
reset role;

select pg_temp.act_as(:'artist2');
select throws_ok(format('select * from companon.campaign_results(%L)', :'b'), 'P0002', format('campaign %s not found', :'b'),
                 'the sponsored artist reads no results');
select throws_ok(format('select * from companon.campaign_lift(%L)', :'b'), 'P0002', format('campaign %s not found', :'b'),
                 'nor the lift');
select is((select count(*)::int from companon.campaign_days), 0, 'nor any day');
select throws_ok('select count(*) from companon_private.conversions', '42501', 'permission denied for schema companon_private',
                 'nor the private tables');
reset role;

select is(pg_temp.reads(:'admin')::text, row(32, 5, :'all_days', (select count(*) from companon.campaign_day_values))::text,
          'an admin reads every brand''s');
select pg_temp.act_as(:'admin');
select is((select count(*)::int from companon.admin_overview(pg_temp.day('30 days'), pg_temp.day('0 days'))),
          (select count(*)::int from companon.brands), 'and the overview, every brand');
reset role;
select pg_temp.act_as(:'admin_member');
select is((select count(*)::int from companon.campaign_results(:'o')), 32, 'an admin who is a viewer elsewhere reads it too');
reset role;

select pg_temp.act_as(:'owner');
select throws_ok(format($$insert into companon.campaign_days (campaign_id, brand_id, day) values (%L, %L, '2026-01-01')$$,
                        :'a', :'brand'), '42501', 'permission denied for table campaign_days', 'nobody writes the days');
select throws_ok(format($$select companon_private.measure_pending()$$), '42501',
                 'permission denied for schema companon_private', 'nor runs the job');
reset role;

select pg_temp.act_as_role('service_role');
select is((select count(*)::int from companon.campaign_results(:'a')), 32, 'service_role reads the results');
select is((select count(*)::int from companon.admin_overview(pg_temp.day('1 day'), pg_temp.day('0 days'))),
          (select count(*)::int from companon.brands), 'and the overview');
select throws_ok('select count(*) from companon_private.measure_queue', '42501',
                 'permission denied for schema companon_private', 'not the queue');
reset role;

select is((select count(*)::int from cron.job where jobname = 'companon-measure' and schedule = '* * * * *'
             and command = 'select companon_private.measure_pending()'), 1, 'the job runs every minute');

select * from finish();
rollback;
