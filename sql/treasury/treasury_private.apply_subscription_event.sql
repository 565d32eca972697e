-- The events of the subscriptions treasury.begin_checkout started
-- (docs/treasury-checkout.md): checkout.session.completed (mode
-- subscription) records the subscription and the customer; invoice.paid
-- records a paid period (and books a membership's payment);
-- invoice.payment_failed starts the grace period;
-- customer.subscription.created / updated / deleted keep the state of the
-- newest event by Stripe's created. Each then recomputes the access the
-- subscription gives (and a plan's coliseum.user_plans row). In any order,
-- duplicated or not, the same events give the same state.
create or replace function treasury_private.apply_subscription_event(event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  event_type text := event ->> 'type';
  obj jsonb := event -> 'data' -> 'object';
  evt_id text := event ->> 'id';
  sub_id text;
  customer text := treasury_private.stripe_id(obj -> 'customer');
  md jsonb;
  problem text;
  s treasury.subscriptions;
  result jsonb := treasury_private.outcome('applied');
begin
  if event_type not in ('checkout.session.completed', 'invoice.paid', 'invoice.payment_failed', 'customer.subscription.created',
                        'customer.subscription.updated', 'customer.subscription.deleted') then
    return treasury_private.outcome('ignored', format('%s is not handled', event_type));
  end if;
  if event_type = 'checkout.session.completed' then
    sub_id := treasury_private.stripe_id(obj -> 'subscription');
    md := obj -> 'metadata';
  elsif event_type like 'invoice.%' then
    sub_id := coalesce(treasury_private.stripe_id(obj -> 'parent' -> 'subscription_details' -> 'subscription'),
                       treasury_private.stripe_id(obj -> 'subscription'));
    md := coalesce(obj -> 'parent' -> 'subscription_details' -> 'metadata', obj -> 'subscription_details' -> 'metadata');
  else
    sub_id := treasury_private.stripe_id(obj -> 'id');
    md := obj -> 'metadata';
  end if;
  if sub_id is null then
    return treasury_private.outcome('ignored', 'no subscription: not a subscription of this app');
  end if;

  select * into s from treasury.subscriptions as x where x.stripe_subscription_id = sub_id for update;
  if not found then
    problem := treasury_private.subscription_metadata_problem(sub_id, md);
    if problem is not null then
      return treasury_private.outcome(case when nullif(md ->> 'kind', '') is null then 'ignored' else 'failed' end, problem);
    end if;
    insert into treasury.subscriptions as x (stripe_subscription_id, user_id, kind, product_id, artist_id, plan, checkout_id)
    values (sub_id, (md ->> 'buyer_id')::uuid, md ->> 'kind',
            case when md ->> 'kind' = 'membership' then (md ->> 'product_id')::uuid end,
            case when md ->> 'kind' = 'membership' then (md ->> 'artist_id')::uuid end,
            case when md ->> 'kind' = 'plan' then md ->> 'plan' end,
            (select c.id from treasury.checkouts as c where c.id = treasury_private.as_uuid(md ->> 'checkout_id')))
    on conflict (stripe_subscription_id) do nothing;
    select * into strict s from treasury.subscriptions as x where x.stripe_subscription_id = sub_id for update;
  end if;

  if customer ~ '^cus_[A-Za-z0-9_]{1,250}$' then
    update treasury.subscriptions as x set customer_id = customer where x.id = s.id and x.customer_id is null;
    insert into treasury.stripe_customers as c (user_id, customer_id) values (s.user_id, customer) on conflict do nothing;
  end if;

  if event_type like 'invoice.%' then
    result := treasury_private.apply_subscription_invoice(s, event);
  elsif event_type like 'customer.subscription.%' then
    result := treasury_private.apply_subscription_state(s, event);
  end if;
  perform treasury_private.refresh_subscription(s.id, 'stripe:' || evt_id || ':plan');
  return result || jsonb_build_object('subscription_id', s.id);
end
$$;
