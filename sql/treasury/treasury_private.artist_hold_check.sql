-- Whether a payout of `amount_minor` would draw on what a held artist earned
-- from the held activity (coliseum.hold_artist): their split lines of
-- payments to them made since the open hold's activity_since (all of them
-- when it is null), net of refunds and lost disputes.
--
-- The money of the payee not yet sent to Stripe (payable, plus payouts held,
-- pending, retrying or processing with no transfer made) is taken to hold
-- those earnings first; the rest is clean. Payouts are served in request
-- order: a payout is clear while it and the unsent payouts requested before
-- it fit in the clean part. `payout_id` null is a request about to be made
-- (its amount is still in payable, and it comes last).
--
-- held_minor: how much of this payout the held earnings would fund (0: it
-- goes out). When > 0, detail is the sentence for the payee and the admins,
-- and trace names the hold's Passport entry and the payments that fund the
-- held part, newest first (the newest earnings are the last spent), with
-- their Passport entries: the buyer's treasury.money_spent and the payee's
-- treasury.money_earned.
create or replace function treasury_private.artist_hold_check(
  payee uuid,
  currency text,
  amount_minor bigint,
  payout_id uuid,
  out held_minor bigint,
  out detail text,
  out trace jsonb
)
language plpgsql
stable
as $$
declare
  hold coliseum.artist_holds;
  requested timestamptz;
  payable bigint;
  earned bigint;
  unsent bigint;
  ahead bigint;
  clean bigint;
  payments jsonb;
  total int;
begin
  held_minor := 0;
  select * into hold from coliseum.artist_holds as h where h.artist_id = payee and h.released_at is null;
  if not found then
    return;
  end if;

  select coalesce(sum(s.amount_minor), 0)::bigint into earned
  from public.treasury_splits as s
  join treasury.payments as p on p.id = s.payment_id
  where s.party_id = payee and s.currency = artist_hold_check.currency and p.artist_id = payee
    and (hold.activity_since is null or p.paid_at >= hold.activity_since);
  if earned <= 0 then
    return;
  end if;

  select coalesce(-b.balance, 0) into payable
  from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
  where a.owner_id = payee and a.purpose = 'payable' and a.currency = artist_hold_check.currency;
  select p.requested_at into requested from treasury.payouts as p where p.id = artist_hold_check.payout_id;
  select coalesce(sum(o.amount_minor), 0)::bigint,
         coalesce(sum(o.amount_minor) filter (where o.ahead), 0)::bigint
  into unsent, ahead
  from (select p.amount_minor,
               artist_hold_check.payout_id is null or (p.requested_at, p.id) < (requested, artist_hold_check.payout_id) as ahead
        from treasury.payouts as p
        where p.payee_id = payee and p.currency = artist_hold_check.currency
          and (p.state in ('held', 'pending') or (p.state = 'failed' and p.due_at is not null)
               or (p.state = 'processing' and not exists (
                     select from treasury.payout_attempts as a
                     where a.payout_id = p.id and a.attempt = p.attempts
                       and (a.transfer_id is not null or a.stripe_payout_id is not null))))) as o;
  clean := greatest(coalesce(payable, 0) + unsent - earned, 0);
  held_minor := least(artist_hold_check.amount_minor, greatest(ahead + artist_hold_check.amount_minor - clean, 0));
  if held_minor = 0 then
    return;
  end if;

  with shares as (
    select p.id, p.paid_at, p.buyer_id, sum(s.amount_minor)::bigint as share,
           min(s.role) filter (where s.reason = 'payment') as role
    from public.treasury_splits as s
    join treasury.payments as p on p.id = s.payment_id
    where s.party_id = payee and s.currency = artist_hold_check.currency and p.artist_id = payee
      and (hold.activity_since is null or p.paid_at >= hold.activity_since)
    group by p.id
    having sum(s.amount_minor) > 0
  ),
  funding as (
    select sh.*, coalesce(sum(sh.share) over (order by sh.paid_at desc, sh.id rows between unbounded preceding and 1 preceding), 0) as before
    from shares as sh
  ),
  needed as (
    select f.*, row_number() over (order by f.paid_at desc, f.id) as n
    from funding as f
    where f.before < held_minor
  )
  select count(*)::int,
         coalesce(jsonb_agg(jsonb_build_object(
           'payment_id', nd.id, 'paid_at', nd.paid_at, 'share_minor', nd.share,
           'spent_entry_id', (select e.id from public.passport_entries as e
                              where e.user_id = nd.buyer_id and e.client_event_id = 'stripe:' || nd.id || ':spent'),
           'earned_entry_id', (select e.id from public.passport_entries as e
                               where e.user_id = payee and e.client_event_id = 'stripe:' || nd.id || ':earned:' || nd.role))
           order by nd.n) filter (where nd.n <= 100), '[]')
  into total, payments
  from needed as nd;

  trace := jsonb_build_object(
    'hold_id', hold.id, 'hold_entry_id', hold.held_entry_id, 'activity_since', hold.activity_since,
    'held_earnings_minor', earned, 'held_minor', held_minor,
    'payments', payments, 'payments_total', total);
  detail := format(
    'the artist is held off the boards (hold %s, Passport entry %s: %s); %s %s of this payout would come from the %s %s '
    'they earned from the held activity%s (Passport entries of the payments: %s%s)',
    hold.id, hold.held_entry_id, hold.reason, held_minor, currency, earned, currency,
    case when hold.activity_since is not null then ' since ' || hold.activity_since end,
    (select string_agg(coalesce(p ->> 'spent_entry_id', '?') || '/' || coalesce(p ->> 'earned_entry_id', '?'), ', ')
     from (select x from jsonb_array_elements(payments) as x limit 10) as l(p)),
    case when total > 10 then format(' and %s more', total - 10) else '' end);
end
$$;

comment on function treasury_private.artist_hold_check(uuid, text, bigint, uuid) is
  'How much of a payout (payout_id null: a request about to be made) would be funded by what a held artist earned '
  'from the held activity: held_minor (0: none), detail, and the trace to the hold''s and the payments'' Passport entries.';
