-- Whether the money of a payout in this state is out of the payee's payable.
create or replace function treasury_private.payout_outstanding(state text, due_at timestamptz)
returns boolean
language sql
immutable
as $$
  select treasury_private.payout_location(state, due_at) <> 'payable'
$$;
