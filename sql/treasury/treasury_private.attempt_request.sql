-- What the Stripe worker asks for on attempt n (docs/treasury-payouts.md).
create or replace function treasury_private.attempt_request(
  pay treasury.payouts,
  attempt int,
  operation text,
  stripe_account text,
  standing_transfer text
)
returns jsonb
language sql
immutable
as $$
  with k as (
    select 'buckets_payout_' || pay.id || '_' || attempt as key,
           jsonb_build_object('payout_id', pay.id::text, 'payout_attempt', attempt::text, 'wallet_id', pay.wallet_id) as metadata
  )
  select jsonb_build_object(
    'idempotency_key', k.key,
    'transfer', case when operation = 'transfer' then jsonb_build_object(
      'idempotency_key', k.key || '_transfer',
      'amount', pay.amount_minor, 'currency', lower(pay.currency), 'destination', stripe_account,
      'transfer_group', 'payout_' || pay.id, 'metadata', k.metadata) end,
    'standing_transfer', standing_transfer,
    'payout', jsonb_build_object(
      'idempotency_key', k.key || '_payout', 'stripe_account', stripe_account,
      'amount', pay.amount_minor, 'currency', lower(pay.currency), 'metadata', k.metadata))
  from k
$$;
