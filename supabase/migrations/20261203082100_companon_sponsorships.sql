-- Companon, sponsorships (issue 13, items 4 and 6): an accepted offer is paid by the brand through
-- Treasury's Checkout as a product of type sponsorship, split between the artist and the platform; the
-- webhook's booking marks the offer paid, a full refund marks it refunded (docs/companon.md#offers-and-sponsorships,
-- docs/treasury-checkout.md).
--
--   treasury.products.type          gains sponsorship: one product per artist, made on the first checkout
--   treasury.checkouts.kind         gains sponsorship; offer_id names the offer a checkout pays
--   companon.sponsorship_refunds_due  payments of offers that could not take them (paid twice, say): to refund
--   pg_cron companon-expire-offers  expires unanswered offers past their expiry or whose campaign ended
--
-- This step holds tables, indexes and the cron job; the functions and policies are in sql/companon/ and
-- sql/treasury/, installed by the generated step that sql/manifest.txt lists after it:
-- 20261203082110_companon_sponsorships_code.sql

alter table treasury.products drop constraint products_type_check;
alter table treasury.products add constraint products_type_check
  check (type in ('ticket', 'membership', 'drop', 'merch', 'tip', 'sponsorship'));

alter table treasury.checkouts drop constraint checkouts_kind_check;
alter table treasury.checkouts add constraint checkouts_kind_check
  check (kind in ('ticket', 'tip', 'drop', 'merch', 'membership', 'plan', 'sponsorship'));
alter table treasury.checkouts add column offer_id uuid references companon.offers (id);
alter table treasury.checkouts add constraint checkouts_offer_check check ((kind = 'sponsorship') = (offer_id is not null));
comment on column treasury.checkouts.offer_id is 'The Companon offer a sponsorship checkout pays (companon.offers).';

-- The checkouts of an offer: at most one may be live at a time (companon_private.price_offer).
create index checkouts_offer_idx on treasury.checkouts (offer_id, created_at desc) where offer_id is not null;

create table companon.sponsorship_refunds_due (
  payment_id text primary key references treasury.payments (id),
  offer_id uuid references companon.offers (id),
  brand_id uuid references companon.brands (id),
  campaign_id uuid references companon.campaigns (id),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  problem text not null,
  refunded_minor bigint not null default 0 check (refunded_minor >= 0),
  created_at timestamptz not null default now(),
  resolved_at timestamptz
);

comment on table companon.sponsorship_refunds_due is
  'Sponsorship payments that no offer could take: the offer was paid already by another checkout, is not '
  'accepted, or names another amount, currency or artist (problem says which). The money is in the ledger, '
  'split as any payment; an admin refunds it in Stripe, and the refund''s charge.refunded resolves the row '
  '(resolved_at, once refunded_minor reaches amount_minor). Read by the brand''s members and admins.';

create index sponsorship_refunds_due_open_idx on companon.sponsorship_refunds_due (created_at) where resolved_at is null;
create index sponsorship_refunds_due_brand_idx on companon.sponsorship_refunds_due (brand_id, created_at desc);

select cron.schedule('companon-expire-offers', '* * * * *', 'select companon_private.expire_offers()');
