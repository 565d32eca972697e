-- Recomputes what a subscription gives from its invoices and its newest
-- state: paid_through, failing_since and access_until, then, for a plan,
-- the user's coliseum.user_plans row (client_event_id: that of the
-- system.plan_changed logged if the plan in force changes).
--
-- access_until: nothing before a paid invoice; an ended subscription, until
-- it ended (at most its paid period); one cancelled at period end or paused,
-- until the paid period ends; one with an unpaid failed invoice, the grace
-- period after the first failure (never less than the paid period); one that
-- renews, the paid period plus the grace period, so the renewal invoice has
-- time to arrive.
create or replace function treasury_private.refresh_subscription(subscription_id uuid, client_event_id text)
returns void
language plpgsql
volatile
as $$
declare
  s treasury.subscriptions;
  grace interval;
  paid timestamptz;
  failing timestamptz;
begin
  select c.renewal_grace into strict grace from treasury.checkout_settings as c;
  select * into strict s from treasury.subscriptions as x where x.id = refresh_subscription.subscription_id for update;
  select max(i.period_end) filter (where i.paid_at is not null), min(i.first_failed_at) filter (where i.paid_at is null)
  into paid, failing
  from treasury.subscription_invoices as i
  where i.subscription_id = s.id;
  update treasury.subscriptions as x
  set paid_through = paid,
      failing_since = failing,
      access_until = case
        when paid is null then null
        when s.status in ('canceled', 'incomplete_expired') then least(paid, coalesce(s.ended_at, paid))
        when s.cancel_at_period_end or s.status = 'paused' then paid
        when failing is not null then greatest(paid, failing + grace)
        else paid + grace
      end,
      updated_at = now()
  where x.id = s.id;
  if s.kind = 'plan' then
    perform treasury_private.sync_plan(s.user_id, client_event_id);
  end if;
end
$$;
