-- Companon sponsorships through Treasury: who may start the checkout of an offer, what it asks Stripe for,
-- the webhook's booking (the split, the offer paid, a second payment due a refund), expired sessions,
-- refunds and a lost dispute; then the money reads (campaign_spend, brand_spend, brand_invoices) against the
-- ledger, as every role.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(76);
\ir companon_helpers.psql

-- The SQLSTATE and DETAIL of sql, or null when it runs.
create function pg_temp.refusal(sql text) returns text language plpgsql as $$
declare s text; d text;
begin
  execute sql;
  return null;
exception when others then
  get stacked diagnostics s = returned_sqlstate, d = pg_exception_detail;
  return s || coalesce(' ' || nullif(d, ''), '');
end
$$;
grant execute on function pg_temp.refusal(text) to public;

-- A Stripe event as the webhook hands it over.
create function pg_temp.receive(id text, type text, object jsonb) returns jsonb language sql as $$
  select treasury.receive_stripe_event(jsonb_build_object(
    'id', id, 'object', 'event', 'type', type, 'created', extract(epoch from now())::bigint, 'livemode', false,
    'data', jsonb_build_object('object', object)))
$$;

-- A paid Checkout Session of a payment intent in EUR, with the metadata of a checkout.
create function pg_temp.completed(session text, payment_intent text, amount bigint, metadata jsonb) returns jsonb language sql as $$
  select jsonb_build_object('id', session, 'object', 'checkout.session', 'mode', 'payment', 'payment_status', 'paid',
                            'status', 'complete', 'payment_intent', payment_intent, 'amount_total', amount,
                            'currency', 'eur', 'metadata', metadata)
$$;

create function pg_temp.refunded(payment_intent text, amount bigint, refunded bigint) returns jsonb language sql as $$
  select jsonb_build_object('id', 'ch_' || substr(payment_intent, 4), 'object', 'charge', 'payment_intent', payment_intent,
                            'amount', amount, 'amount_refunded', refunded, 'currency', 'eur')
$$;

-- An account's EUR balance on its normal side (owner null: the platform).
create function pg_temp.balance(owner uuid, purpose text) returns bigint language sql as $$
  select coalesce((select b.normal_balance from treasury.balances as b
                   where b.owner_id is not distinct from owner and b.purpose = balance.purpose and b.currency = 'EUR'), 0)
$$;

create function pg_temp.pay_sql(offer uuid) returns text language sql as $$
  select format('select treasury.begin_checkout(%L::jsonb)', jsonb_build_array(jsonb_build_object('kind', 'sponsorship', 'offer_id', offer)))
$$;
grant execute on function pg_temp.pay_sql(uuid) to public;

select gen_random_uuid() as artist2 \gset
-- What the platform had earned before (a stack the demo ran on has earned already).
select pg_temp.balance(null, 'platform_revenue') as revenue_before \gset
insert into auth.users (id, email) values (:'artist', 'artist@example.test'), (:'artist2', 'artist2@example.test'),
  (:'owner', 'owner@acme.test'), (:'manager', 'manager@acme.test');
select companon.create_campaign(:'brand', 'Summer', 'awareness', 500000, 'EUR', now(), now() + interval '30 days',
                                '{"domains": {"A": 1}}', '[{"url": "https://acme.example/summer"}]') as c \gset
select companon.transition_campaign(:'c', 'submit') as _s, companon.transition_campaign(:'c', 'approve') as _a \gset
select companon.make_offer(:'c', :'artist', 100000, 'Two posts') as o1,
       companon.make_offer(:'c', :'artist2', 150000, 'A show') as o2 \gset
select companon.transition_offer(:'o1', 'accept') as _accepted \gset

-- Who may start the checkout of an offer ------------------------------------------------------------------
reset role; select pg_temp.act_as(:'viewer');
select is(pg_temp.refusal(pg_temp.pay_sql(:'o1')), '42501 not_a_payer', 'a viewer does not pay the brand''s offers');
reset role; select pg_temp.act_as(:'other_owner');
select is(pg_temp.refusal(pg_temp.pay_sql(:'o1')), 'P0002 unknown_item', 'another brand''s owner is told it is not found');
reset role; select pg_temp.act_as(:'artist');
select is(pg_temp.refusal(pg_temp.pay_sql(:'o1')), 'P0002 unknown_item', 'so is the artist');
reset role; select pg_temp.act_as(:'admin');
select is(pg_temp.refusal(pg_temp.pay_sql(:'o1')), 'P0002 unknown_item', 'and an admin: a sponsorship is the brand''s to pay');
reset role; select pg_temp.act_as_role('anon');
select throws_ok(pg_temp.pay_sql(:'o1'), '42501', 'permission denied for function begin_checkout', 'anon may not call it');
reset role; select pg_temp.act_as(:'owner');
select is(pg_temp.refusal(pg_temp.pay_sql(:'o2')), '55000 offer_not_payable', 'an offer not accepted yet is not paid');
select is(pg_temp.refusal($$select treasury.begin_checkout('[{"kind": "sponsorship", "offer_id": "x"}]')$$), '22023 invalid_item',
          'offer_id must be a UUID');

select treasury.begin_checkout(jsonb_build_array(jsonb_build_object('kind', 'sponsorship', 'offer_id', :'o1'))) as co1 \gset
reset role;
select (:'co1'::jsonb ->> 'checkout_id') as co1_id, (:'co1'::jsonb #>> '{session_params,metadata,product_id}') as product \gset
select is((select row(kind, mode, offer_id, artist_id, quantity, amount_minor, currency::text, buyer_id)::text
           from treasury.checkouts where id = :'co1_id'),
          row('sponsorship', 'payment', :'o1'::uuid, :'artist'::uuid, 1, 100000::bigint, 'EUR', :'owner'::uuid)::text,
          'the owner starts a checkout at the offer''s amount, for its artist');
select is((:'co1'::jsonb #> '{session_params,metadata}') - 'product_id'::text,
          jsonb_build_object('checkout_id', :'co1_id', 'buyer_id', :'owner', 'artist_id', :'artist', 'quantity', '1',
                             'offer_id', :'o1', 'campaign_id', :'c', 'brand_id', :'brand'),
          'the metadata names the offer, its campaign and brand');
select is(:'co1'::jsonb #> '{session_params,payment_intent_data,metadata}', :'co1'::jsonb #> '{session_params,metadata}',
          'on the PaymentIntent as on the session');
select is(:'co1'::jsonb #> '{session_params,line_items,0}',
          '{"price_data": {"currency": "eur", "unit_amount": 100000, "product_data": {"name": "Sponsorship · Acme Drinks · Summer"}}, "quantity": 1}'::jsonb,
          'one line at the offer''s price, named by brand and campaign');
select is((select row(p.type, p.artist_id, p.price_minor, p.active)::text from treasury.products as p where p.id = :'product'::uuid),
          row('sponsorship', :'artist'::uuid, null::bigint, true)::text, 'the artist''s sponsorship product, made on the first checkout');
select is((select array_agg(row(r.position, r.party_id, r.role, r.share_bp)::text order by r.position)
           from treasury.split_rule_parties as r join treasury.products as p on p.split_rule_id = r.rule_id where p.id = :'product'::uuid),
          array[row(1, :'artist'::uuid, 'artist', 8500)::text, row(2, null::uuid, 'platform', 1500)::text],
          'split 85 % to the artist, 15 % to the platform');

reset role; select pg_temp.act_as(:'manager');
select is(pg_temp.refusal(pg_temp.pay_sql(:'o1')), '55000 checkout_in_progress', 'one live checkout per offer');
reset role;
select is(pg_temp.receive('evt_s_exp', 'checkout.session.expired', jsonb_build_object(
            'id', 'cs_s_1', 'object', 'checkout.session', 'status', 'expired', 'mode', 'payment',
            'metadata', :'co1'::jsonb #> '{session_params,metadata}')) ->> 'status',
          'applied', 'the session expires');
select is((select state from companon.offers where id = :'o1'), 'accepted', 'the offer stays accepted: payable again');
reset role; select pg_temp.act_as(:'manager');
select treasury.begin_checkout(jsonb_build_array(jsonb_build_object('kind', 'sponsorship', 'offer_id', :'o1'))) as co2 \gset
reset role;
select (:'co2'::jsonb ->> 'checkout_id') as co2_id \gset
select is((select count(*)::int from treasury.products where artist_id = :'artist' and type = 'sponsorship'), 1,
          'a manager starts another, with the same product');

-- The webhook's booking ---------------------------------------------------------------------------------
select is(pg_temp.receive('evt_s_paid', 'checkout.session.completed',
                          pg_temp.completed('cs_s_2', 'pi_s_1', 100000, :'co2'::jsonb #> '{session_params,metadata}')) ->> 'status',
          'applied', 'checkout.session.completed records the payment');
select is((select row(state, payment_id, paid_at)::text from companon.offers where id = :'o1'),
          row('paid', 'pi_s_1', to_timestamp(extract(epoch from now())::bigint))::text, 'and the offer is paid by it, when Stripe says');
select is((select status from treasury.checkouts where id = :'co2_id'), 'completed', 'the checkout is completed');
select is((select array_agg(row(s.party_id, s.role, s.amount_minor)::text order by s.party_index) from public.treasury_splits as s
           where s.payment_id = 'pi_s_1'),
          array[row(:'artist'::uuid, 'artist', 85000::bigint)::text, row(null::uuid, 'platform', 15000::bigint)::text],
          'split between the artist and the platform');
select is(pg_temp.balance(:'artist', 'payable'), 85000::bigint, 'the artist is owed 850.00');
select is(pg_temp.balance(null, 'platform_revenue') - :'revenue_before'::bigint, 15000::bigint, 'the platform earned 150.00');
select is((select row(e.user_id, e.artist_id)::text from public.passport_entries as e
           where e.kind = 'treasury.money_spent' and e.payload ->> 'payment_id' = 'pi_s_1'),
          row(:'manager'::uuid, null::uuid)::text, 'the brand''s spending is logged without the artist: it moves no DNA');
select is((select row(t.action, t.actor, e.kind, e.payload ->> 'payment_id')::text
           from companon.offer_transitions as t join public.passport_entries as e on e.id = t.passport_entry_id
           where t.offer_id = :'o1' order by t.id desc limit 1),
          row('pay', 'platform', 'companon.offer_paid', 'pi_s_1')::text, 'companon.offer_paid names the payment');
select is((select kind from treasury.outbox where dedupe_key = 'payment_receipt:pi_s_1'), 'payment_receipt',
          'the payer gets a receipt');
select is(pg_temp.receive('evt_s_pi', 'payment_intent.succeeded', jsonb_build_object(
            'id', 'pi_s_1', 'object', 'payment_intent', 'status', 'succeeded', 'amount', 100000, 'amount_received', 100000,
            'currency', 'eur', 'metadata', :'co2'::jsonb #> '{session_params,metadata}', 'latest_charge', 'ch_s_1')) ->> 'note',
          'already_recorded', 'the PaymentIntent''s event adds nothing');
select is((select count(*)::int from companon.offer_transitions where offer_id = :'o1' and action = 'pay'), 1, 'the offer is paid once');

reset role; select pg_temp.act_as(:'owner');
select is(pg_temp.refusal(pg_temp.pay_sql(:'o1')), '55000 offer_not_payable', 'a paid offer is not paid again');
reset role;
select is(pg_temp.receive('evt_s_dup', 'checkout.session.completed',
                          pg_temp.completed('cs_s_1', 'pi_s_2', 100000, :'co1'::jsonb #> '{session_params,metadata}')) ->> 'status',
          'applied', 'a second payment of the offer (the expired session, paid at the last second) is recorded all the same');
select is((select row(offer_id, brand_id, campaign_id, amount_minor, problem, resolved_at)::text
           from companon.sponsorship_refunds_due where payment_id = 'pi_s_2'),
          row(:'o1'::uuid, :'brand'::uuid, :'c'::uuid, 100000::bigint, format('offer %s was paid by pi_s_1 already', :'o1'),
              null::timestamptz)::text,
          'and is due a refund, saying why');
select is((select payment_id from companon.offers where id = :'o1'), 'pi_s_1', 'the offer keeps the payment that paid it');

-- Refunds and a lost dispute -------------------------------------------------------------------------------
select is(pg_temp.receive('evt_s_ref1', 'charge.refunded', pg_temp.refunded('pi_s_1', 100000, 40000)) ->> 'status', 'applied',
          'a partial refund');
select is((select state from companon.offers where id = :'o1'), 'paid', 'leaves the offer paid');
select is(pg_temp.receive('evt_s_ref2', 'charge.refunded', pg_temp.refunded('pi_s_1', 100000, 100000)) ->> 'status', 'applied',
          'the rest is refunded');
select is((select row(state, refunded_at)::text from companon.offers where id = :'o1'), row('refunded', now())::text,
          'the offer is refunded');
select is(companon_private.committed(:'c'), 0::bigint, 'and its budget released');
select is((select row(t.action, e.kind)::text from companon.offer_transitions as t
           join public.passport_entries as e on e.id = t.passport_entry_id where t.offer_id = :'o1' order by t.id desc limit 1),
          row('refund', 'companon.offer_refunded')::text, 'companon.offer_refunded is logged');
select is(pg_temp.balance(:'artist', 'payable'), 85000::bigint, 'the artist keeps the share of the payment due a refund only');
select is(pg_temp.receive('evt_s_ref3', 'charge.refunded', pg_temp.refunded('pi_s_2', 100000, 100000)) ->> 'status', 'applied',
          'the admin refunds the second payment');
select is((select row(refunded_minor, resolved_at)::text from companon.sponsorship_refunds_due where payment_id = 'pi_s_2'),
          row(100000::bigint, now())::text, 'which resolves it');
select is(pg_temp.balance(:'artist', 'payable'), 0::bigint, 'the artist holds nothing of refunded payments');

select companon.transition_offer(:'o2', 'accept') as _accepted2 \gset
reset role; select pg_temp.act_as(:'owner');
select treasury.begin_checkout(jsonb_build_array(jsonb_build_object('kind', 'sponsorship', 'offer_id', :'o2'))) as co3 \gset
reset role;
select is(pg_temp.receive('evt_s_paid3', 'checkout.session.completed',
                          pg_temp.completed('cs_s_3', 'pi_s_3', 150000, :'co3'::jsonb #> '{session_params,metadata}')) ->> 'status',
          'applied', 'another offer is paid');
select is(pg_temp.receive('evt_s_dp', 'charge.dispute.closed', jsonb_build_object(
            'id', 'dp_s_3', 'object', 'dispute', 'charge', 'ch_s_3', 'payment_intent', 'pi_s_3', 'amount', 150000, 'currency', 'eur',
            'status', 'lost', 'reason', 'fraudulent', 'created', extract(epoch from now())::bigint)) ->> 'status',
          'applied', 'and charged back');
select is((select state from companon.offers where id = :'o2'), 'paid', 'a chargeback leaves the offer paid (an admin decides)');

-- The money reads add up to the ledger ----------------------------------------------------------------------
select is((select row(currency, budget_minor, committed_minor, payments, paid_minor, refunded_minor, charged_back_minor, net_minor)::text
           from companon.campaign_spend(:'c')),
          row('EUR', 500000::bigint, 150000::bigint, 3::bigint, 350000::bigint, 200000::bigint, 150000::bigint, 0::bigint)::text,
          'campaign_spend: three payments, two refunded, one charged back');
select is((select net_minor from companon.campaign_spend(:'c')),
          (select sum(l.amount)::bigint from public.treasury_ledger as l
           join treasury.ledger_transactions as t on t.id = l.txn_id
           join treasury.accounts as a on a.id = l.account_id
           where a.owner_id is null and a.purpose = 'stripe_balance' and t.kind in ('payment', 'refund', 'dispute_loss')
             and (t.reference in ('pi_s_1', 'pi_s_2', 'pi_s_3', 'dp_s_3') or t.reference like 'pi\_s\__:refunded:%')),
          'its net is what the ledger''s Stripe balance holds of those payments');
select is((select paid_minor from companon.campaign_spend(:'c')),
          (select sum(amount_minor)::bigint from treasury.payments where id in (select payment_id from companon.offers where campaign_id = :'c'
                                                                              union select payment_id from companon.sponsorship_refunds_due)),
          'and its paid total the payments''');
select is((select array_agg(row(month, campaign_id, campaign_name, currency, payments, paid_minor, refunded_minor, charged_back_minor, net_minor)::text)
           from companon.brand_spend(:'brand')),
          array[row(date_trunc('month', now() at time zone 'UTC')::date, :'c'::uuid, 'Summer', 'EUR', 3::bigint, 350000::bigint,
                    200000::bigint, 150000::bigint, 0::bigint)::text],
          'brand_spend: by campaign and month');
select is((select count(*)::int from companon.brand_spend(:'brand', now() + interval '1 day')), 0, 'from a later day: nothing');
select is((select count(*)::int from companon.brand_spend(:'brand', now() - interval '1 day', now() + interval '1 day')), 1,
          'within a range around now: the month');
select is(pg_temp.refusal(format('select companon.brand_spend(%L, now(), now() - interval ''1 day'')', :'brand')), '22023',
          'a range must end after it starts');
select is((select array_agg(row(payment_id, offer_id, paid_by, amount_minor, refunded_minor, charged_back_minor, status, refund_due is not null,
                                receipt ->> 'status', receipt_email)::text order by payment_id)
           from companon.brand_invoices(:'brand')),
          array[row('pi_s_1', :'o1'::uuid, :'manager'::uuid, 100000::bigint, 100000::bigint, 0::bigint, 'refunded', false, 'refunded', 'pending')::text,
                row('pi_s_2', :'o1'::uuid, :'owner'::uuid, 100000::bigint, 100000::bigint, 0::bigint, 'refunded', true, 'refunded', 'pending')::text,
                row('pi_s_3', :'o2'::uuid, :'owner'::uuid, 150000::bigint, 0::bigint, 150000::bigint, 'charged_back', false, 'charged_back', 'pending')::text],
          'brand_invoices: every payment with its receipt, the one due a refund flagged');
select is((select receipt from companon.brand_invoices(:'brand') where payment_id = 'pi_s_1'),
          treasury_private.receipt_data((select p from treasury.payments as p where p.id = 'pi_s_1')),
          'the receipt is what treasury.receipt shows its buyer');
select is((select count(*)::int from treasury.check_invariants()), 0, 'the ledger''s invariants hold');
select is((select count(*)::int from treasury.top_fans(:'artist2')), 0, 'a brand paying a sponsorship is no top fan of the artist');

-- Who reads the money ----------------------------------------------------------------------------------------
reset role; select pg_temp.act_as(:'owner');
select is((select net_minor from companon.campaign_spend(:'c')), 0::bigint, 'the owner reads the campaign''s spend');
select is((select count(*)::int from companon.brand_invoices(:'brand')), 3, 'and the brand''s invoices');
select is((select count(*)::int from companon.sponsorship_refunds_due), 1, 'and its refunds due');
reset role; select pg_temp.act_as(:'manager');
select is((select count(*)::int from companon.brand_spend(:'brand')), 1, 'a manager reads the brand''s spend');
reset role; select pg_temp.act_as(:'viewer');
select is((select count(*)::int from companon.brand_spend(:'brand')), 1, 'so does a viewer');
select is((select count(*)::int from companon.brand_invoices(:'brand')), 3, 'and the invoices');
select is((select payments from companon.campaign_spend(:'c')), 3::bigint, 'and the campaign''s spend');
reset role; select pg_temp.act_as(:'admin');
select is((select count(*)::int from companon.brand_invoices(:'brand')), 3, 'an admin reads any brand''s invoices');
select is((select count(*)::int from companon.sponsorship_refunds_due), 1, 'and refunds due');
reset role; select pg_temp.act_as(:'other_owner');
select is(pg_temp.refusal(format('select companon.campaign_spend(%L)', :'c')), 'P0002', 'another brand reads no spend');
select is(pg_temp.refusal(format('select companon.brand_spend(%L)', :'brand')), 'P0002', 'by month neither');
select is(pg_temp.refusal(format('select companon.brand_invoices(%L)', :'brand')), 'P0002', 'nor invoices');
select is((select count(*)::int from companon.sponsorship_refunds_due), 0, 'nor refunds due');
reset role; select pg_temp.act_as(:'artist');
select is(pg_temp.refusal(format('select companon.campaign_spend(%L)', :'c')), 'P0002', 'the artist reads no brand''s spend');
select is(pg_temp.refusal(format('select companon.brand_invoices(%L)', :'brand')), 'P0002', 'nor its invoices');
select is((select count(*)::int from companon.sponsorship_refunds_due), 0, 'nor refunds due');
reset role; select pg_temp.act_as_role('anon');
select throws_ok(format('select companon.campaign_spend(%L)', :'c'), '42501', 'permission denied for function campaign_spend', 'anon: no spend');
select throws_ok(format('select companon.brand_spend(%L)', :'brand'), '42501', 'permission denied for function brand_spend', 'nor by month');
select throws_ok(format('select companon.brand_invoices(%L)', :'brand'), '42501', 'permission denied for function brand_invoices', 'nor invoices');
select throws_ok('select count(*) from companon.sponsorship_refunds_due', '42501',
                 'permission denied for table sponsorship_refunds_due', 'nor refunds due');
reset role;

select * from finish();
rollback;
