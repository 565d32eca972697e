-- Why a payout of amount_minor that a payee is about to request must be
-- held: reasons and a sentence for the payee and the admins, and the trace of
-- an artist hold. wallet_unverified: no verified Stripe account;
-- untraced_earnings: payable holds more than recorded payments explain;
-- artist_held: part of it would come from what a held artist earned from the
-- held activity (treasury_private.artist_hold_check).
create or replace function treasury_private.payout_checks(
  payee uuid,
  currency text,
  amount_minor bigint,
  out reasons text[],
  out detail text,
  out trace jsonb
)
language plpgsql
stable
as $$
declare
  w treasury.wallets;
  money record;
  artist record;
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
  select * into money from treasury_private.payee_trace(payee, currency);
  if money.untraced > 0 then
    reasons := reasons || 'untraced_earnings'::text;
    notes := notes || format(
      '%s %s of the payable balance of %s cannot be traced to recorded payments (split lines %s, held by disputes %s, payouts %s)',
      money.untraced, currency, money.payable, money.split_lines, money.held, money.outstanding);
  end if;
  select * into artist from treasury_private.artist_hold_check(payee, currency, amount_minor, null);
  if artist.held_minor > 0 then
    reasons := reasons || 'artist_held'::text;
    notes := notes || artist.detail;
    trace := artist.trace;
  end if;
  detail := case when cardinality(notes) > 0 then 'Held: ' || array_to_string(notes, '; ') || '.' end;
end
$$;
