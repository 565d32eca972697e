create or replace function treasury.open_disputes()
returns table (
  dispute_id text,
  payment_id text,
  buyer_id uuid,
  artist_id uuid,
  product_id uuid,
  product_type text,
  amount_minor bigint,
  currency text,
  reason text,
  status text,
  opened_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform treasury_private.require_staff('open disputes');
  return query
    select d.id, d.payment_id, p.buyer_id, p.artist_id, p.product_id, p.product_type, d.amount_minor, d.currency::text,
           d.reason, d.status, d.opened_at
    from treasury.disputes as d
    join treasury.payments as p on p.id = d.payment_id
    where d.outcome is null
    order by d.opened_at, d.id;
end
$$;

comment on function treasury.open_disputes() is 'Disputes not closed yet, oldest first, with their payment. Treasury admins.';

grant execute on function treasury.open_disputes() to authenticated, service_role;
