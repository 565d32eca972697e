-- The brand dashboard (companon.brand_dashboard): one row per campaign whose money is the ledger's (what
-- campaign_spend reads) and whose results are what measurement counted (campaign_results), with cost per
-- result and ROI computed from both; and who may read it.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(17);
\ir companon_helpers.psql

create function pg_temp.receive(id text, type text, object jsonb) returns jsonb language sql as $$
  select treasury.receive_stripe_event(jsonb_build_object(
    'id', id, 'object', 'event', 'type', type, 'created', extract(epoch from now())::bigint, 'livemode', false,
    'data', jsonb_build_object('object', object)))
$$;

-- A view, click or conversion as the app (views, clicks) and the platform (conversions) log them.
create function pg_temp.ev(fan uuid, kind text, campaign uuid, artist uuid, extra jsonb default '{}') returns bigint
language sql as $$
  select passport.log(fan, 'companon.campaign_' || kind, gen_random_uuid()::text,
                      jsonb_build_object('campaign_id', campaign) || extra, artist, now(),
                      case when kind = 'converted' then 'companon' else 'app' end)
$$;

create function pg_temp.dashboard_error(who uuid, brand uuid) returns text language plpgsql as $$
declare s text;
begin
  perform pg_temp.act_as(who);
  perform * from companon.brand_dashboard(brand);
  reset role;
  return null;
exception when others then
  get stacked diagnostics s = returned_sqlstate;
  reset role;
  return s;
end
$$;

select gen_random_uuid() as fan1, gen_random_uuid() as fan2, gen_random_uuid() as fan3 \gset
insert into auth.users (id, email) values (:'artist', 'artist@example.test'), (:'owner', 'owner@acme.test'),
  (:'fan1', 'fan1@example.test'), (:'fan2', 'fan2@example.test'), (:'fan3', 'fan3@example.test');

-- A conversions campaign with one paid sponsorship, and a draft beside it.
select companon.create_campaign(:'brand', 'Summer', 'conversions', 500000, 'EUR', now(), now() + interval '30 days',
                                '{"domains": {"A": 1}}', '[{"url": "https://acme.example/summer"}]') as c \gset
select companon.transition_campaign(:'c', 'submit') as _s, companon.transition_campaign(:'c', 'approve') as _a \gset
select pg_temp.campaign(:'brand', 'Autumn draft') as draft \gset
select companon.make_offer(:'c', :'artist', 200000, 'Two posts and a live set') as o \gset
select companon.transition_offer(:'o', 'accept') as _accepted \gset
select pg_temp.act_as(:'owner');
select treasury.begin_checkout(jsonb_build_array(jsonb_build_object('kind', 'sponsorship', 'offer_id', :'o'))) as co \gset
reset role;
select pg_temp.receive('evt_d_paid', 'checkout.session.completed', jsonb_build_object(
  'id', 'cs_d_1', 'object', 'checkout.session', 'mode', 'payment', 'payment_status', 'paid', 'status', 'complete',
  'payment_intent', 'pi_d_1', 'amount_total', 200000, 'currency', 'eur',
  'metadata', :'co'::jsonb #> '{session_params,metadata}')) ->> 'status' as _paid \gset
-- A quarter of it comes back.
select pg_temp.receive('evt_d_ref', 'charge.refunded', jsonb_build_object(
  'id', 'ch_d_1', 'object', 'charge', 'payment_intent', 'pi_d_1', 'amount', 200000, 'amount_refunded', 50000,
  'currency', 'eur')) ->> 'status' as _refunded \gset

-- Four views by three fans, two clicks, two conversions after a click (EUR 900.00 and EUR 1,200.00) and one
-- in another currency, which the campaign's ROI leaves out.
select pg_temp.ev(:'fan1', 'viewed', :'c', :'artist'), pg_temp.ev(:'fan1', 'viewed', :'c', :'artist'),
       pg_temp.ev(:'fan2', 'viewed', :'c', :'artist'), pg_temp.ev(:'fan3', 'viewed', :'c', :'artist'),
       pg_temp.ev(:'fan1', 'clicked', :'c', :'artist'), pg_temp.ev(:'fan2', 'clicked', :'c', :'artist') \gset
select pg_temp.ev(:'fan1', 'converted', :'c', :'artist', '{"amount_minor": 90000, "currency": "EUR"}'),
       pg_temp.ev(:'fan2', 'converted', :'c', :'artist', '{"amount_minor": 120000, "currency": "EUR"}'),
       pg_temp.ev(:'fan2', 'converted', :'c', :'artist', '{"amount_minor": 5000, "currency": "USD"}') \gset
select companon_private.measure_pending() as _measured \gset

-- The numbers -----------------------------------------------------------------------------------------------
select pg_temp.act_as(:'viewer');
create temp table d as select * from companon.brand_dashboard(:'brand');
reset role;
select is((select array_agg(campaign_id order by campaign_id) from d),
          (select array_agg(id order by id) from companon.campaigns where brand_id = :'brand'),
          'one row per campaign of the brand, drafts included');
select is((select row(state, objective, currency, budget_minor, committed_minor, sponsored_artists)::text from d where campaign_id = :'c'),
          row('active', 'conversions', 'EUR', 500000::bigint, 200000::bigint, 1::bigint)::text,
          'the campaign, its budget, what its accepted offer commits, one sponsored artist');
select is((select row(paid_minor, refunded_minor, charged_back_minor, spent_minor)::text from d where campaign_id = :'c'),
          (select row(paid_minor, refunded_minor, charged_back_minor, net_minor)::text from companon.campaign_spend(:'c') where currency = 'EUR'),
          'the money is campaign_spend''s');
select is((select spent_minor from d where campaign_id = :'c'),
          (select sum(l.amount)::bigint from public.treasury_ledger as l
           join treasury.accounts as a on a.id = l.account_id
           where a.purpose = 'stripe_balance' and a.owner_id is null
             and l.reference in (select s.reference from public.treasury_splits as s where s.payment_id = 'pi_d_1')),
          'which is the ledger''s: what reached the platform''s Stripe balance for the payment, less its refund');
select is((select spent_minor from d where campaign_id = :'c'), 150000::bigint, 'EUR 2,000.00 paid, EUR 500.00 refunded');
select is((select row(impressions, reach, clicks, ctr, conversions)::text from d where campaign_id = :'c'),
          row(4::bigint, 3::bigint, 2::bigint, 0.5000, 3::bigint)::text,
          'four impressions by three fans, two clicks, three attributed conversions');
select is((select conversion_value_minor from d where campaign_id = :'c'), 210000::bigint,
          'the value of the conversions in the campaign''s currency');
select is((select row(cpm_minor, cpc_minor, cpa_minor, roi)::text from d where campaign_id = :'c'),
          row(37500000.00, 75000.00, 50000.00, 0.4000)::text,
          'cost per 1,000 impressions, per click and per conversion, and ROI (210,000 - 150,000) / 150,000');
select is((select row(spent_minor, impressions, conversions, cpm_minor, cpc_minor, cpa_minor, roi)::text from d where campaign_id = :'draft'),
          row(0::bigint, 0::bigint, 0::bigint, null::numeric, null::numeric, null::numeric, null::numeric)::text,
          'a draft has spent nothing and costs nothing per result');

select pg_temp.act_as(:'admin');
select is((select spent from companon.admin_overview(current_date, current_date) where brand_id = :'brand'),
          '[{"currency": "EUR", "amount_minor": 150000}]'::jsonb, 'the admin overview shows the brand''s net spend from the ledger');
reset role;

-- Who reads it ----------------------------------------------------------------------------------------------
select is(pg_temp.dashboard_error(:'owner', :'brand'), null, 'the owner reads it');
select is(pg_temp.dashboard_error(:'manager', :'brand'), null, 'a manager reads it');
select is(pg_temp.dashboard_error(:'admin', :'brand'), null, 'an admin reads every brand''s');
select is(pg_temp.dashboard_error(:'other_owner', :'brand'), 'P0002', 'another brand''s owner is told it is not found');
select is(pg_temp.dashboard_error(:'artist', :'brand'), 'P0002', 'so is the sponsored artist');
select pg_temp.act_as_role('anon');
select throws_ok(format('select * from companon.brand_dashboard(%L)', :'brand'), '42501',
                 'permission denied for function brand_dashboard', 'anon may not call it');
reset role;
select pg_temp.act_as_role('service_role');
select is((select count(*)::int from companon.brand_dashboard(:'brand')), 2, 'the platform reads it');
reset role;

select * from finish();
rollback;
