create or replace function treasury.earnings_summary(for_user uuid default null, time_zone text default 'UTC')
returns table (
  currency text,
  revenue_this_month_minor bigint,
  revenue_all_time_minor bigint,
  available_minor bigint,
  on_hold_minor bigint,
  in_payout_minor bigint,
  pending_minor bigint,
  paid_out_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  payee uuid := treasury_private.reader(for_user);
  month_start timestamptz;
begin
  if time_zone is null then
    raise exception using errcode = '22023', message = 'time_zone is required (an IANA name such as Europe/Paris, or UTC)';
  end if;
  month_start := date_trunc('month', now(), time_zone);
  return query
    with currencies as (
      select a.currency::text as cur from treasury.accounts as a where a.owner_id = payee and a.purpose in ('payable', 'held')
      union
      select s.currency::text from public.treasury_splits as s where s.party_id = payee
      union
      select p.currency::text from treasury.payouts as p where p.payee_id = payee
    ),
    lines as (
      select l.currency, l.amount_minor, l.occurred_at from treasury_private.party_lines(payee) as l
    ),
    figures as (
      select c.cur,
        coalesce((select sum(l.amount_minor) from lines as l where l.currency = c.cur and l.occurred_at >= month_start), 0)::bigint as month,
        coalesce((select sum(l.amount_minor) from lines as l where l.currency = c.cur), 0)::bigint as all_time,
        coalesce((select -b.balance from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
                  where a.owner_id = payee and a.purpose = 'payable' and a.currency = c.cur), 0) as available,
        coalesce((select -b.balance from treasury.accounts as a join treasury.account_balances as b on b.account_id = a.id
                  where a.owner_id = payee and a.purpose = 'held' and a.currency = c.cur), 0) as on_hold,
        coalesce((select sum(p.amount_minor) from treasury.payouts as p
                  where p.payee_id = payee and p.currency = c.cur and p.state <> 'paid'
                    and treasury_private.payout_outstanding(p.state, p.due_at)), 0)::bigint as in_payout,
        coalesce((select sum(p.amount_minor) from treasury.payouts as p
                  where p.payee_id = payee and p.currency = c.cur and p.state = 'paid'), 0)::bigint as paid_out
      from currencies as c
    )
    select f.cur, f.month, f.all_time, f.available, f.on_hold, f.in_payout, f.on_hold + f.in_payout, f.paid_out
    from figures as f
    order by f.cur;
end
$$;

comment on function treasury.earnings_summary(uuid, text) is
  'A payee''s money per currency: revenue this month (in time_zone, by Stripe''s time of each line) and all time '
  '(their split lines, net of refunds and lost disputes), available (can be paid out), on hold (disputes), in payout (requested, not yet paid), '
  'pending (on hold + in payout), paid out. 42501 another user''s (unless admin); 22023 unknown time zone.';

grant execute on function treasury.earnings_summary(uuid, text) to authenticated, service_role;
