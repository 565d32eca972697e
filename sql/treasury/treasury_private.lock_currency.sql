-- Everything that changes balances in one currency runs one transaction at a
-- time: account creation, postings and the application of Stripe events take
-- this lock first (it is re-entrant and held to commit). One lock per currency
-- orders all of them, so concurrent writers wait instead of deadlocking, and a
-- Stripe event is applied against state no concurrent event is changing.
create or replace function treasury_private.lock_currency(currency text)
returns void
language sql
volatile
as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('treasury.ledger:' || currency, 0))
$$;
