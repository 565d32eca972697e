-- The payee's note that attempt n of a payout was paid to their bank.
create or replace function treasury_private.queue_payout_message(payout_id uuid, attempt int)
returns void
language sql
volatile
as $$
  select treasury_private.queue_message('payout_sent', 'payout_sent:' || p.id || ':' || a.attempt, p.payee_id, jsonb_build_object(
    'payout_id', p.id, 'attempt', a.attempt, 'amount_minor', p.amount_minor, 'currency', p.currency,
    'wallet_id', p.wallet_id, 'stripe_payout_id', a.stripe_payout_id, 'paid_at', p.paid_at))
  from treasury.payouts as p
  join treasury.payout_attempts as a on a.payout_id = p.id and a.attempt = queue_payout_message.attempt
  where p.id = queue_payout_message.payout_id
$$;
