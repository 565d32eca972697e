-- Stripe events are acknowledged once recorded and applied in batches (issue 15, goal 1;
-- docs/treasury-webhook.md, "Recorded, then applied").
--
-- The webhook's transaction records the event (status 'received') and commits; the batch applier
-- treasury.apply_stripe_events applies what was recorded, in Stripe's order, many events per
-- transaction, and folds the batch's postings into account_balances once per account at its end
-- (treasury_private.balance_deltas). The webhook drives a batch right after recording; the pg_cron
-- job below is the safety net when no delivery comes.
--
-- Its code is in sql/treasury/ (treasury.record_stripe_event, treasury.apply_stripe_events,
-- treasury_private.apply_stored, treasury_private.flush_balance_deltas and the trigger of
-- balance_deltas), carried by:
-- 20261203134110_treasury_async_apply_code.sql   after it
-- and the generated sources migration that follows it.

alter table treasury.stripe_events
  add column outcome jsonb;

comment on column treasury.stripe_events.outcome is
  'What applying the event answered ({"status", "note"?, "payment_id"?, ...}, as treasury.receive_stripe_event '
  'returns it); null while the event is received and not yet applied.';

comment on table treasury.stripe_events is
  'Every Stripe event received, by its id (the exactly-once gate: a redelivery finds its row and is answered as a '
  'duplicate). status: received (recorded, waiting for the batch applier treasury.apply_stripe_events), applied, '
  'ignored (nothing to do), deferred (waits for its payment), failed (see note; retry with '
  'treasury.retry_stripe_event). payload is the event as received; outcome what applying it answered.';

comment on column treasury.stripe_events.stripe_created is
  'The event''s created time at Stripe; received and deferred events apply in this order.';

-- The applier's queue: the received events, oldest first at Stripe.
create index stripe_events_received_idx on treasury.stripe_events (stripe_created, event_id) where status = 'received';

-- What a batch posted, per account and statement, until the batch folds it into account_balances
-- (once per account, at the batch's end or its commit). Rows live only inside the applier's
-- transaction: the table is empty outside it, so it need not survive a crash.
create unlogged table treasury_private.balance_deltas (
  account_id bigint not null,
  currency char(3) not null,
  amount bigint not null,
  entries bigint not null
);

comment on table treasury_private.balance_deltas is
  'Postings of a batch of Stripe events not yet folded into treasury.account_balances; always empty outside the '
  'batch''s transaction (treasury_private.flush_balance_deltas empties it before commit).';

revoke all on treasury_private.balance_deltas from public, anon, authenticated, service_role;

-- The safety net: applies what no delivery drove (the last events of a burst, an applier that
-- failed). Every second where pg_cron can (1.5 and later, as on hosted Supabase), else every minute.
do $$
begin
  if (select string_to_array(split_part(extversion, '-', 1), '.')::int[] >= '{1,5}'
      from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('treasury-apply-stripe-events', '1 seconds', 'select treasury.apply_stripe_events(1000)');
  else
    perform cron.schedule('treasury-apply-stripe-events', '* * * * *', 'select treasury.apply_stripe_events(1000)');
  end if;
end
$$;
