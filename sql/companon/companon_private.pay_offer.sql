-- Marks the offer a new sponsorship payment pays (treasury_private.after_payment, in the payment's
-- transaction): the offer named by the metadata of the event that recorded the payment moves from accepted
-- to paid, with the payment and its time, and logs companon.offer_paid. A payment no offer can take (paid
-- already, not accepted, another amount, currency or artist) is recorded in
-- companon.sponsorship_refunds_due for an admin to refund, never raised: Stripe would retry the event
-- forever. A payment of another product without offer_id is none of Companon's.
create or replace function companon_private.pay_offer(payment_id text)
returns void
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  ref text;
  o companon.offers;
  problem text;
begin
  select * into pay from treasury.payments as p where p.id = pay_offer.payment_id;
  select nullif(e.payload -> 'data' -> 'object' -> 'metadata' ->> 'offer_id', '') into ref
  from treasury.stripe_events as e where e.event_id = pay.stripe_event_id;
  if ref is null and pay.product_type <> 'sponsorship' then
    return;
  end if;

  select * into o from companon.offers as x where x.id = treasury_private.as_uuid(ref) for update;
  problem := case
    when ref is null then format('sponsorship payment %s names no offer (metadata.offer_id)', pay.id)
    when o.id is null then format('metadata.offer_id %s is not an offer', ref)
    when pay.product_type <> 'sponsorship' then format('offer %s was paid with a %s product', o.id, pay.product_type)
    when o.state = 'paid' then format('offer %s was paid by %s already', o.id, o.payment_id)
    when o.state <> 'accepted' then format('offer %s is %s, not accepted', o.id, o.state)
    when pay.artist_id is distinct from o.artist_id then
      format('payment %s is for artist %s, offer %s for artist %s', pay.id, pay.artist_id, o.id, o.artist_id)
    when pay.amount_minor <> o.amount_minor or pay.currency <> o.currency then
      format('payment %s of %s %s is not the %s %s of offer %s', pay.id, pay.amount_minor, pay.currency,
             o.amount_minor, o.currency, o.id)
  end;
  if problem is not null then
    insert into companon.sponsorship_refunds_due (payment_id, offer_id, brand_id, campaign_id, amount_minor, currency, problem)
    values (pay.id, o.id, o.brand_id, o.campaign_id, pay.amount_minor, pay.currency, problem)
    on conflict on constraint sponsorship_refunds_due_pkey do nothing;
    return;
  end if;

  update companon.offers as x
  set state = 'paid', payment_id = pay.id, paid_at = pay.paid_at, state_changed_at = now(), updated_at = now()
  where x.id = o.id
  returning * into o;
  perform companon_private.record_offer_transition(o, 'pay', 'accepted', 'platform', null);
end
$$;
