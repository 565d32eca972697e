-- ./stack bench companon, the dashboard part: one brand with bench.campaigns campaigns (10), each with
-- bench.offers (20) sponsorships paid through the same path the webhook takes (begin_checkout as the brand's
-- owner, then checkout.session.completed), a quarter of them half refunded, and bench.views (2,000) views,
-- a tenth as many clicks and a hundredth as many conversions from 2,000 fans, counted by measurement. Run as
-- postgres (the platform) in one transaction; leaves the brand's id in bench.brand.
do $$
declare
  owner uuid := gen_random_uuid();
  brand uuid;
  c uuid;
  artist uuid;
  o uuid;
  co jsonb;
  pi text;
  amount bigint;
  fans uuid[];
  ncamp int := current_setting('bench.campaigns')::int;
  noffers int := current_setting('bench.offers')::int;
  nviews int := current_setting('bench.views')::int;
  ev jsonb;
begin
  insert into auth.users (id, email) values (owner, format('owner.%s@bench.buckets.local', owner));
  brand := companon.create_brand(format('Bench brand %s', left(owner::text, 8)), owner);
  select array_agg(gen_random_uuid()) into fans from generate_series(1, 2000);
  insert into auth.users (id, email) select f, format('fan.%s@bench.buckets.local', f) from unnest(fans) as f;
  for i in 1..ncamp loop
    c := companon.create_campaign(brand, format('Campaign %s', i), 'conversions', 1000000000, 'EUR',
                                  now() - interval '1 minute', now() + interval '30 days', '{"domains": {"A": 1}}',
                                  '[{"url": "https://bench.example/creative"}]');
    perform companon.transition_campaign(c, 'submit');
    perform companon.transition_campaign(c, 'approve');
    for j in 1..noffers loop
      artist := gen_random_uuid();
      insert into auth.users (id, email) values (artist, format('artist.%s@bench.buckets.local', artist));
      amount := 10000 + 100 * j;
      o := companon.make_offer(c, artist, amount, 'Bench terms');
      perform companon.transition_offer(o, 'accept');
      -- The owner starts the checkout, as the app would (role and claims as PostgREST sets them).
      perform set_config('role', 'authenticated', true),
              set_config('request.jwt.claims', json_build_object('sub', owner, 'role', 'authenticated')::text, true);
      co := treasury.begin_checkout(jsonb_build_array(jsonb_build_object('kind', 'sponsorship', 'offer_id', o)));
      perform set_config('role', 'none', true), set_config('request.jwt.claims', '', true);
      pi := 'pi_bench_' || replace(o::text, '-', '');
      perform treasury.receive_stripe_event(jsonb_build_object(
        'id', 'evt_bench_' || replace(o::text, '-', ''), 'object', 'event', 'type', 'checkout.session.completed',
        'created', extract(epoch from now())::bigint, 'livemode', false,
        'data', jsonb_build_object('object', jsonb_build_object(
          'id', 'cs_bench_' || replace(o::text, '-', ''), 'object', 'checkout.session', 'mode', 'payment',
          'payment_status', 'paid', 'status', 'complete', 'payment_intent', pi, 'amount_total', amount,
          'currency', 'eur', 'metadata', co #> '{session_params,metadata}'))));
      if j % 4 = 0 then
        perform treasury.receive_stripe_event(jsonb_build_object(
          'id', 'evt_bench_r_' || replace(o::text, '-', ''), 'object', 'event', 'type', 'charge.refunded',
          'created', extract(epoch from now())::bigint, 'livemode', false,
          'data', jsonb_build_object('object', jsonb_build_object(
            'id', 'ch_' || substr(pi, 4), 'object', 'charge', 'payment_intent', pi, 'amount', amount,
            'amount_refunded', amount / 2, 'currency', 'eur'))));
      end if;
    end loop;
    for k in 1..nviews loop
      perform passport.log(fans[1 + (k * 7 + i) % 2000], 'companon.campaign_viewed', gen_random_uuid()::text,
                           jsonb_build_object('campaign_id', c), artist, now(), 'app');
      if k % 10 = 0 then
        perform passport.log(fans[1 + (k * 7 + i) % 2000], 'companon.campaign_clicked', gen_random_uuid()::text,
                             jsonb_build_object('campaign_id', c), artist, now(), 'app');
      end if;
      if k % 100 = 0 then
        perform passport.log(fans[1 + (k * 7 + i) % 2000], 'companon.campaign_converted', gen_random_uuid()::text,
                             jsonb_build_object('campaign_id', c, 'amount_minor', 2500, 'currency', 'EUR'), artist, now(),
                             'companon');
      end if;
    end loop;
  end loop;
  perform set_config('bench.brand', brand::text, false);
  perform set_config('bench.owner', owner::text, false);
end
$$;
