-- Follows a sponsorship payment's refunds (treasury_private.after_refund, in the refund's transaction):
-- once the refunded total reaches the payment's amount, the offer it paid is refunded (its budget is no
-- longer committed) and companon.offer_refunded is logged; a partial refund leaves the offer paid (the
-- ledger and companon.campaign_spend show it). A payment that was due a refund is resolved once refunded
-- in full.
create or replace function companon_private.refund_offer(payment_id text, refunded_total bigint)
returns void
language plpgsql
volatile
as $$
declare
  pay treasury.payments;
  o companon.offers;
begin
  update companon.sponsorship_refunds_due as d
  set refunded_minor = greatest(d.refunded_minor, refunded_total),
      resolved_at = case when greatest(d.refunded_minor, refunded_total) >= d.amount_minor then coalesce(d.resolved_at, now()) end
  where d.payment_id = refund_offer.payment_id;

  select * into o from companon.offers as x where x.payment_id = refund_offer.payment_id for update;
  if not found or o.state <> 'paid' then
    return;
  end if;
  select * into pay from treasury.payments as p where p.id = refund_offer.payment_id;
  if refunded_total < pay.amount_minor then
    return;
  end if;
  update companon.offers as x
  set state = 'refunded', refunded_at = now(), state_changed_at = now(), updated_at = now()
  where x.id = o.id
  returning * into o;
  perform companon_private.record_offer_transition(o, 'refund', 'paid', 'platform', null);
end
$$;
