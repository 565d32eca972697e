-- The split lines of a party (null: the platform) with the product type of
-- their payment and when they happened: the Stripe time of the event that
-- posted them (the booking time when no event did).
create or replace function treasury_private.party_lines(party uuid)
returns table (
  payment_id text,
  reason text,
  reference text,
  product_type text,
  amount_minor bigint,
  currency text,
  occurred_at timestamptz
)
language sql
stable
as $$
  select s.payment_id, s.reason, s.reference, p.product_type, s.amount_minor, s.currency::text,
         coalesce(e.stripe_created, s.created_at)
  from public.treasury_splits as s
  join treasury.payments as p on p.id = s.payment_id
  left join treasury.ledger_transactions as t
    on t.kind = case s.reason when 'payment' then 'payment' when 'refund' then 'refund' else 'dispute_loss' end
   and t.reference = s.reference
  left join treasury.stripe_events as e on e.event_id = t.stripe_event_id
  where s.party_id = party or (party is null and s.party_id is null)
$$;
