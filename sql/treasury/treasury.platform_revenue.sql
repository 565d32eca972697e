create or replace function treasury.platform_revenue(
  from_at timestamptz default null,
  to_at timestamptz default null,
  for_currency text default null
)
returns table (
  currency text,
  gross_minor bigint,
  reversed_minor bigint,
  net_minor bigint,
  processing_fees_minor bigint,
  dispute_fees_minor bigint,
  after_fees_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  cur text := treasury_private.currency_arg(for_currency);
begin
  perform treasury_private.require_staff('platform revenue');
  perform treasury_private.check_range(from_at, to_at);
  return query
    with lines as (
      select l.currency as c, l.reason, l.amount_minor
      from treasury_private.party_lines(null) as l
      where (cur is null or l.currency = cur)
        and (from_at is null or l.occurred_at >= from_at) and (to_at is null or l.occurred_at < to_at)
    ),
    fee_postings as (
      select l.currency::text as c, a.purpose, l.amount, coalesce(e.stripe_created, l.created_at) as occurred_at
      from public.treasury_ledger as l
      join treasury.accounts as a on a.id = l.account_id
      join treasury.ledger_transactions as t on t.id = l.txn_id
      left join treasury.stripe_events as e on e.event_id = t.stripe_event_id
      where a.owner_id is null and a.purpose in ('processing_fees', 'dispute_losses') and (cur is null or l.currency = cur)
    ),
    fees as (
      select f.c, f.purpose, sum(f.amount) as amount
      from fee_postings as f
      where (from_at is null or f.occurred_at >= from_at) and (to_at is null or f.occurred_at < to_at)
      group by 1, 2
    ),
    currencies as (select l.c from lines as l union select f.c from fees as f),
    figures as (
      select k.c,
        coalesce((select sum(l.amount_minor) from lines as l where l.c = k.c and l.reason = 'payment'), 0)::bigint as gross,
        coalesce((select -sum(l.amount_minor) from lines as l where l.c = k.c and l.reason <> 'payment'), 0)::bigint as reversed,
        coalesce((select f.amount from fees as f where f.c = k.c and f.purpose = 'processing_fees'), 0)::bigint as processing,
        coalesce((select f.amount from fees as f where f.c = k.c and f.purpose = 'dispute_losses'), 0)::bigint as disputes
      from currencies as k
    )
    select f.c, f.gross, f.reversed, f.gross - f.reversed, f.processing, f.disputes, f.gross - f.reversed - f.processing - f.disputes
    from figures as f
    order by f.c;
end
$$;

comment on function treasury.platform_revenue(timestamptz, timestamptz, text) is
  'The platform''s revenue per currency in [from_at, to_at): its shares of payments (gross), of refunds and lost '
  'disputes (reversed), net, Stripe processing fees, dispute fees, and what is left after fees. Treasury admins.';

grant execute on function treasury.platform_revenue(timestamptz, timestamptz, text) to authenticated, service_role;
