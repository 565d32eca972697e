create or replace function treasury.held_payouts()
returns table (
  payout_id uuid,
  payee_id uuid,
  wallet_id text,
  wallet_verification text,
  stripe_account_id text,
  amount_minor bigint,
  currency text,
  hold_reasons text[],
  hold_detail text,
  untraced_minor bigint,
  requested_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform treasury_private.require_staff('held payouts');
  return query
    select p.id, p.payee_id, p.wallet_id, w.verification, w.stripe_account_id, p.amount_minor, p.currency::text,
           p.hold_reasons, p.hold_detail, t.untraced, p.requested_at
    from treasury.payouts as p
    left join treasury.wallets as w on w.user_id = p.payee_id
    cross join lateral treasury_private.payee_trace(p.payee_id, p.currency) as t
    where p.state = 'held'
    order by p.requested_at, p.id;
end
$$;

comment on function treasury.held_payouts() is
  'Payouts waiting for an admin, oldest first: why (hold_reasons, hold_detail), the wallet, and how much of the '
  'payee''s payable is untraced now. Treasury admins.';

grant execute on function treasury.held_payouts() to authenticated, service_role;
