-- Why a payout of a payee must be held now: reasons and a sentence for the
-- payee and the admins. wallet_unverified: no verified Stripe account;
-- untraced_earnings: payable holds more than recorded payments explain.
create or replace function treasury_private.payout_checks(
  payee uuid,
  currency text,
  out reasons text[],
  out detail text
)
language plpgsql
stable
as $$
declare
  w treasury.wallets;
  trace record;
  notes text[] := '{}'::text[];
begin
  reasons := '{}';
  select * into w from treasury.wallets as x where x.user_id = payee;
  if w.user_id is null or w.verification <> 'verified' then
    reasons := reasons || 'wallet_unverified'::text;
    notes := notes || case when w.stripe_account_id is null
      then 'the wallet has no Stripe account linked yet'
      else format('the wallet''s Stripe account %s is not verified yet', w.stripe_account_id) end;
  end if;
  select * into trace from treasury_private.payee_trace(payee, currency);
  if trace.untraced > 0 then
    reasons := reasons || 'untraced_earnings'::text;
    notes := notes || format(
      '%s %s of the payable balance of %s cannot be traced to recorded payments (split lines %s, held by disputes %s, payouts %s)',
      trace.untraced, currency, trace.payable, trace.split_lines, trace.held, trace.outstanding);
  end if;
  detail := case when cardinality(notes) > 0 then 'Held: ' || array_to_string(notes, '; ') || '.' end;
end
$$;
