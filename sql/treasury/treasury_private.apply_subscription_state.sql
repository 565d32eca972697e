-- customer.subscription.created / updated / deleted: the subscription's
-- status, cancel_at_period_end, period and end, when this event is newer
-- (Stripe's created) than the one that set them. Stripe's created is in
-- whole seconds, and a subscription is often created and changed within one:
-- on a tie the later kind of state wins (created < updated < deleted), and
-- of two updates of one second the one that arrives last.
-- A membership's cancellation is logged once as membership.cancelled.
create or replace function treasury_private.apply_subscription_state(s treasury.subscriptions, event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  obj jsonb := event -> 'data' -> 'object';
  occurred timestamptz := treasury_private.event_created(event);
  deleted boolean := event ->> 'type' = 'customer.subscription.deleted';
  rank int := case event ->> 'type' when 'customer.subscription.created' then 1
                                          when 'customer.subscription.updated' then 2 else 3 end;
  period_end timestamptz;
  new_status text := left(case when deleted then 'canceled' else obj ->> 'status' end, 50);
  cancelling boolean := coalesce(jsonb_typeof(obj -> 'cancel_at_period_end') = 'boolean' and (obj ->> 'cancel_at_period_end')::boolean, false);
begin
  if s.state_created is not null and (occurred, rank) < (s.state_created, coalesce(s.state_rank, 1)) then
    return treasury_private.outcome('ignored', 'older than the subscription state recorded');
  end if;
  -- Since API 2025-03-31 the period is on each subscription item.
  select max(to_timestamp(treasury_private.json_bigint(i -> 'current_period_end'))) into period_end
  from jsonb_array_elements(case when jsonb_typeof(obj -> 'items' -> 'data') = 'array' then obj -> 'items' -> 'data' else '[]' end) as i;
  update treasury.subscriptions as x
  set status = new_status,
      cancel_at_period_end = cancelling,
      current_period_end = coalesce(period_end, to_timestamp(treasury_private.json_bigint(obj -> 'current_period_end')), x.current_period_end),
      ended_at = coalesce(to_timestamp(treasury_private.json_bigint(obj -> 'ended_at')), case when deleted then occurred end),
      state_created = occurred,
      state_rank = rank,
      updated_at = now()
  where x.id = s.id;
  if s.kind = 'membership' and (cancelling or new_status = 'canceled') then
    perform passport.log(s.user_id, 'membership.cancelled', 'subscription:' || s.id || ':cancelled',
      jsonb_build_object('membership_id', s.id, 'reason', case when new_status = 'canceled' then 'ended' else 'cancel_at_period_end' end),
      s.artist_id, least(occurred, now()), 'system');
  end if;
  return treasury_private.outcome('applied', new_status);
end
$$;
