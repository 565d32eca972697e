-- A brand's invoice history: every payment its people made for its sponsorships, newest first, with the
-- offer and campaign it paid, who paid, the amounts (refunded, charged back), the problem when no offer
-- could take it (due a refund), the receipt as treasury.receipt shows it to the buyer, and the receipt
-- email's delivery (treasury.outbox). For its members, admins and the platform; P0002 for anyone else.
create or replace function companon.brand_invoices(brand_id uuid)
returns table (
  payment_id text,
  offer_id uuid,
  campaign_id uuid,
  campaign_name text,
  artist_id uuid,
  paid_by uuid,
  paid_at timestamptz,
  amount_minor bigint,
  currency text,
  refunded_minor bigint,
  charged_back_minor bigint,
  status text,
  refund_due text,
  receipt jsonb,
  receipt_email text,
  receipt_sent_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform companon_private.visible_brand_role(brand_invoices.brand_id, 'read a brand''s invoices');
  return query
    with pays as (
      select o.payment_id, o.id as offer_id, o.campaign_id, null::text as problem
      from companon.offers as o
      where o.brand_id = brand_invoices.brand_id and o.payment_id is not null
      union all
      select d.payment_id, d.offer_id, d.campaign_id, d.problem
      from companon.sponsorship_refunds_due as d
      where d.brand_id = brand_invoices.brand_id
    )
    select p.id, x.offer_id, x.campaign_id, c.name, p.artist_id, p.buyer_id, p.paid_at, p.amount_minor,
           p.currency::text, p.refunded_minor, p.dispute_lost_minor, r.data ->> 'status', x.problem, r.data,
           m.status, m.sent_at
    from pays as x
    join treasury.payments as p on p.id = x.payment_id
    left join companon.campaigns as c on c.id = x.campaign_id
    cross join lateral (select treasury_private.receipt_data(p) as data) as r
    left join treasury.outbox as m on m.dedupe_key = 'payment_receipt:' || p.id
    order by p.paid_at desc, p.id;
end
$$;

comment on function companon.brand_invoices(uuid) is
  'A brand''s sponsorship payments, newest first: payment, offer, campaign, artist, who paid (paid_by), when, amount, '
  'refunded, charged back, status (paid, partially_refunded, refunded, disputed, charged_back), refund_due (why no '
  'offer took it: an admin refunds it), receipt (what treasury.receipt shows the buyer), the receipt email''s status '
  'and sent_at. For its members, admins and the platform; P0002 brand not found (or not yours to see).';

grant execute on function companon.brand_invoices(uuid) to authenticated, service_role;
