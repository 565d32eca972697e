create or replace function treasury.request_payout(amount_minor bigint, currency text, client_request_id text default null)
returns treasury.payouts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  payee uuid := auth.uid();
  cur text;
  rules treasury.payout_settings;
  earlier treasury.payouts;
  w treasury.wallets;
  available bigint;
  checks record;
  pay treasury.payouts;
begin
  if payee is null then
    raise exception using errcode = '42501', message = 'sign in to request a payout', hint = 'Call with the payee''s access token.';
  end if;
  if request_payout.amount_minor is null or request_payout.amount_minor <= 0 then
    raise exception using errcode = '22023', detail = 'invalid_amount',
      message = format('amount_minor must be an integer > 0 (minor units), got %s', coalesce(request_payout.amount_minor::text, 'null'));
  end if;
  if request_payout.currency is null then
    raise exception using errcode = '22023', detail = 'invalid_currency', message = 'currency is required (ISO 4217, e.g. EUR)';
  end if;
  cur := treasury_private.currency_arg(request_payout.currency);
  if request_payout.client_request_id is not null and char_length(request_payout.client_request_id) not between 1 and 200 then
    raise exception using errcode = '22023', detail = 'invalid_client_request_id',
      message = 'client_request_id must be a string of 1 to 200 characters';
  end if;
  rules := treasury_private.payout_settings_for(cur);
  if request_payout.amount_minor < rules.minimum_minor then
    raise exception using errcode = '22023', detail = 'below_minimum',
      message = format('the minimum payout is %s %s, requested %s', rules.minimum_minor, cur, request_payout.amount_minor);
  end if;

  perform treasury_private.lock_currency(cur);
  if request_payout.client_request_id is not null then
    select * into earlier from treasury.payouts as p
    where p.payee_id = payee and p.client_request_id = request_payout.client_request_id;
    if found then
      if earlier.amount_minor <> request_payout.amount_minor or earlier.currency <> cur then
        raise exception using errcode = '22023', detail = 'client_request_id_reused',
          message = format('client_request_id %s was used for a payout of %s %s', request_payout.client_request_id,
                           earlier.amount_minor, earlier.currency);
      end if;
      return earlier;
    end if;
  end if;

  select -b.balance into available
  from treasury.accounts as a
  join treasury.account_balances as b on b.account_id = a.id
  where a.owner_id = payee and a.purpose = 'payable' and a.currency = cur;
  available := coalesce(available, 0);
  if request_payout.amount_minor > available then
    raise exception using errcode = '55000', detail = 'insufficient_funds',
      message = format('the available balance is %s %s, requested %s', available, cur, request_payout.amount_minor),
      hint = 'Funds held by disputes and payouts already requested are not available.';
  end if;

  w := treasury_private.ensure_wallet(payee);
  select * into checks from treasury_private.payout_checks(payee, cur, request_payout.amount_minor);
  insert into treasury.payouts as p
    (payee_id, wallet_id, amount_minor, currency, state, hold_reasons, hold_detail, hold_trace, due_at, client_request_id)
  values (payee, w.wallet_id, request_payout.amount_minor, cur,
          case when cardinality(checks.reasons) > 0 then 'held' else 'pending' end,
          checks.reasons, checks.detail, checks.trace,
          case when cardinality(checks.reasons) = 0 then now() end,
          request_payout.client_request_id)
  returning * into pay;
  pay := treasury_private.payout_transition(pay, pay.state, pay.due_at, 'payee', payee, now(), checks.detail);

  perform passport.log(payee, 'treasury.payout_requested', 'payout:' || pay.id || ':requested',
    jsonb_build_object('payout_id', pay.id, 'amount_minor', pay.amount_minor, 'currency', pay.currency),
    null, now(), 'treasury');
  return pay;
end
$$;

comment on function treasury.request_payout(bigint, text, text) is
  'The signed-in payee asks for amount_minor of their available balance (payable: disputes'' holds and earlier '
  'payouts excluded) in currency. Returns the payout: pending, or held with hold_reasons and hold_detail when the '
  'wallet is unverified, the earnings cannot be traced to recorded payments, or part of it would come from a held '
  'artist''s earnings of the held activity (hold_trace). The same client_request_id returns '
  'the same payout. 42501 not signed in; 22023 bad amount or currency, below the minimum (detail below_minimum); '
  '55000 more than available (detail insufficient_funds).';

grant execute on function treasury.request_payout(bigint, text, text) to authenticated, service_role;
