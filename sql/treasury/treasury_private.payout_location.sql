-- The account that holds a payout's money in a state (null state: not yet
-- requested, the money is in payable).
create or replace function treasury_private.payout_location(state text, due_at timestamptz)
returns text
language sql
immutable
as $$
  select case state
    when 'held' then 'payouts_held'
    when 'pending' then 'payouts_queued'
    when 'processing' then 'payouts_in_transit'
    when 'paid' then 'stripe_balance'
    when 'failed' then case when due_at is null then 'payable' else 'payouts_queued' end
    else 'payable'
  end
$$;
