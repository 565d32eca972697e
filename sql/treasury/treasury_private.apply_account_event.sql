-- account.updated of a connected account: the wallet linked to it is
-- verified when Stripe lets the account receive payouts (payouts_enabled,
-- nothing past due, not disabled) and the platform makes its payouts
-- (settings.payouts.schedule.interval manual: on an automatic schedule Stripe
-- would pay a transfer out by itself before the worker's payout, which would
-- then fail and give the money back to the payee a second time), unverified
-- otherwise: verifying releases
-- the payouts held only for that, and the queue holds the payouts of an
-- unverified wallet (treasury.set_wallet_verification, process_payouts).
-- Stripe's created orders the events: an older one arriving late changes
-- nothing. Same contract as apply_payout_event.
create or replace function treasury_private.apply_account_event(event jsonb)
returns jsonb
language plpgsql
volatile
as $$
declare
  obj jsonb := event -> 'data' -> 'object';
  account text := treasury_private.stripe_id(obj -> 'id');
  occurred timestamptz := treasury_private.event_created(event);
  requirements jsonb := case when jsonb_typeof(obj -> 'requirements') = 'object' then obj -> 'requirements' else '{}' end;
  past_due text[];
  currently_due text[];
  disabled text := nullif(left(requirements ->> 'disabled_reason', 100), '');
  enabled boolean := jsonb_typeof(obj -> 'payouts_enabled') = 'boolean' and (obj ->> 'payouts_enabled')::boolean;
  schedule text := left(obj #>> '{settings,payouts,schedule,interval}', 20);
  verified boolean;
  note text;
  w treasury.wallets;
begin
  if event ->> 'type' is distinct from 'account.updated' then
    return treasury_private.outcome('ignored', format('%s changes no wallet', event ->> 'type'));
  end if;
  if account is null or account !~ '^acct_[A-Za-z0-9]{1,250}$' then
    return treasury_private.outcome('failed', 'data.object.id must be a connected account id (acct_...)');
  end if;
  select * into w from treasury.wallets as x where x.stripe_account_id = account for update;
  if not found then
    return treasury_private.outcome('ignored', format('account %s is linked to no wallet', account));
  end if;
  if w.stripe_account_synced_at > occurred then
    return treasury_private.outcome('applied', format('superseded: account.updated of %s is newer', w.stripe_account_synced_at))
      || jsonb_build_object('wallet_id', w.wallet_id, 'verification', w.verification);
  end if;

  select coalesce(array_agg(left(f, 100) order by f), '{}') into past_due
  from jsonb_array_elements_text(case when jsonb_typeof(requirements -> 'past_due') = 'array' then requirements -> 'past_due' else '[]' end) as f;
  select coalesce(array_agg(left(f, 100) order by f), '{}') into currently_due
  from jsonb_array_elements_text(case when jsonb_typeof(requirements -> 'currently_due') = 'array' then requirements -> 'currently_due' else '[]' end) as f;
  verified := enabled and cardinality(past_due) = 0 and disabled is null and coalesce(schedule = 'manual', false);
  note := left(format('Stripe account %s: %s', account, concat_ws('; ',
    case when enabled then 'payouts enabled' else 'payouts disabled' end,
    case when schedule is distinct from 'manual'
         then format('payouts on an automatic schedule (%s): set settings.payouts.schedule.interval to manual', coalesce(schedule, 'not given')) end,
    'disabled_reason ' || disabled,
    case when cardinality(past_due) > 0 then 'past due: ' || array_to_string(past_due, ', ') end,
    case when cardinality(currently_due) > 0 then 'currently due: ' || array_to_string(currently_due, ', ') end)), 500);

  w := treasury.set_wallet_verification(w.user_id, verified, note);
  update treasury.wallets as x set stripe_account_synced_at = occurred where x.user_id = w.user_id returning * into w;
  return treasury_private.outcome('applied')
    || jsonb_build_object('wallet_id', w.wallet_id, 'verification', w.verification);
end
$$;

comment on function treasury_private.apply_account_event(jsonb) is
  'Applies account.updated to the wallet linked to the account: verified when payouts_enabled, nothing is past due '
  'or disabled and its payouts are manual (settings.payouts.schedule.interval), else unverified, with a note naming the requirements; an event older than the newest applied changes '
  'nothing. Returns {"status", "note"?, "wallet_id"?, "verification"?}; an account of no wallet is ignored.';
