create or replace function concierto.cancel_event(event_id uuid, reason text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ev concierto.events := concierto_private.host_event(cancel_event.event_id, 'cancels it (or a Treasury admin)', true);
  told uuid[];
  voided int;
  released int;
  refunds int := 0;
  notified int;
  pay treasury.payments;
begin
  if cancel_event.reason is null or char_length(btrim(cancel_event.reason)) = 0 or char_length(cancel_event.reason) > 500 then
    raise exception using errcode = '22023', message = 'reason must be a non-blank string of at most 500 characters';
  end if;
  perform concierto_private.require_state(ev, array['draft', 'published'], 'a cancellation');

  -- Whom to tell, before their tickets turn void: holders of valid tickets and RSVPs.
  select coalesce(array_agg(distinct w.user_id), '{}') into told
  from (select k.owner_id as user_id from public.event_tickets as k where k.event_id = ev.id and k.state = 'valid'
        union
        select r.user_id from concierto.event_rsvp as r where r.event_id = ev.id and r.state = 'going') as w;

  -- Every valid ticket at once: the door refuses them from this commit on.
  -- Admitted tickets stay redeemed (their holders were in).
  with void as (
    update public.event_tickets as k set state = 'void', voided_at = now(), void_reason = 'cancelled'
    where k.event_id = ev.id and k.state = 'valid'
    returning k.tier_id
  ), per_tier as (
    update concierto.ticket_tiers as t set seats_sold = t.seats_sold - v.n
    from (select void.tier_id, count(*)::int as n from void group by void.tier_id) as v
    where t.id = v.tier_id
    returning v.n
  )
  select coalesce(sum(per_tier.n), 0)::int into voided from per_tier;

  -- Open checkouts end. A payment already holding an order's lock finds the
  -- event cancelled once this commits, and is refunded (pay_order).
  with open as (
    select o.id from concierto.orders as o where o.event_id = ev.id and o.state = 'reserved' for update skip locked
  )
  update concierto.orders as o set state = 'expired', expires_at = least(o.expires_at, now()), note = 'released: event cancelled'
  from open where o.id = open.id;
  get diagnostics released = row_count;

  -- Every payment of the event back in full, through Treasury's refund worker;
  -- charge.refunded then books it and marks the order refunded.
  for pay in
    select p.* from concierto.orders as o join treasury.payments as p on p.id = o.payment_id
    where o.event_id = ev.id and o.state in ('paid', 'refund_due')
    order by p.id
  loop
    perform concierto_private.refund_cancelled(pay, ev);
    refunds := refunds + 1;
  end loop;

  update concierto.events as e
  set state = 'cancelled', cancelled_at = now(), cancelled_by = auth.uid(), cancel_reason = cancel_event.reason,
      takes_applications = false, updated_at = now()
  where e.id = ev.id
  returning * into ev;
  update concierto.artist_applications as p set state = 'declined', decided_at = now()
  where p.event_id = ev.id and p.state = 'applied';

  select count(people_private.notify(
           u, 'event.cancelled', format('%s is cancelled', ev.title),
           'Your tickets for it are void and every payment for them is refunded in full.',
           jsonb_build_object('event_id', ev.id, 'reason', ev.cancel_reason),
           'concierto:event:' || ev.id || ':cancelled'))::int
  into notified
  from unnest(told) as u;

  perform passport.log(concierto_private.host_actor(ev), 'concierto.event_cancelled', 'concierto:event:' || ev.id || ':cancelled',
    jsonb_build_object('event_id', ev.id, 'reason', ev.cancel_reason, 'tickets_voided', voided, 'refunds_requested', refunds),
    null, now(), 'concierto');
  return jsonb_build_object('event_id', ev.id, 'state', ev.state, 'cancelled_at', ev.cancelled_at,
                            'tickets_voided', voided, 'reservations_released', released, 'refunds_requested', refunds,
                            'notified', notified);
end
$$;

comment on function concierto.cancel_event(uuid, text) is
  'Cancels a draft or published event, in one transaction: every valid ticket turns void (void_reason cancelled; '
  'the door refuses it), open reservations are released, every paid order''s payment is refunded in full through '
  'treasury_private.request_refund (the refund worker calls Stripe; charge.refunded books it), pending '
  'applications are declined, ticket holders and RSVPs get an event.cancelled notification. Returns {event_id, '
  'state, cancelled_at, tickets_voided, reservations_released, refunds_requested, notified}. For the host, a '
  'Treasury admin or service_role (42501 otherwise); 55000 DETAIL event_cancelled; 22023 no reason.';

grant execute on function concierto.cancel_event(uuid, text) to authenticated, service_role;
