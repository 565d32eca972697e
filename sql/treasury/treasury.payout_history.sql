create or replace function treasury.payout_history(
  for_user uuid default null,
  states text[] default null,
  page_size int default 50,
  before_at timestamptz default null,
  before_id uuid default null
)
returns table (
  payout_id uuid,
  wallet_id text,
  amount_minor bigint,
  currency text,
  state text,
  will_retry boolean,
  retry_at timestamptz,
  attempts int,
  hold_reasons text[],
  hold_detail text,
  failure_code text,
  failure_message text,
  requested_at timestamptz,
  updated_at timestamptz,
  paid_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  payee uuid := treasury_private.reader(for_user);
begin
  perform treasury_private.check_page_size(page_size);
  perform treasury_private.check_members('states', states, '{held,pending,processing,paid,failed,cancelled}');
  perform treasury_private.check_keyset(before_at, before_id::text);
  return query
    select p.id, p.wallet_id, p.amount_minor, p.currency::text, p.state, p.state = 'failed' and p.due_at is not null,
           case when p.state = 'failed' then p.due_at end, p.attempts, p.hold_reasons, p.hold_detail, p.failure_code,
           p.failure_message, p.requested_at, p.updated_at, p.paid_at
    from treasury.payouts as p
    where p.payee_id = payee
      and (states is null or p.state = any (states))
      and (before_at is null or (p.requested_at, p.id) < (before_at, before_id))
    order by p.requested_at desc, p.id desc
    limit page_size;
end
$$;

comment on function treasury.payout_history(uuid, text[], int, timestamptz, uuid) is
  'A payee''s payouts, newest first, with state, retry time, hold reasons and failure. Keyset pagination: pass the '
  'last row''s requested_at and payout_id as before_at and before_id. 42501 another user''s (unless admin).';

grant execute on function treasury.payout_history(uuid, text[], int, timestamptz, uuid) to authenticated, service_role;
