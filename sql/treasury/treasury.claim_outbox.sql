-- The receipts sender's work, in Resend batch requests (POST /emails/batch,
-- at most 100 emails each): first the requests an earlier run made that must
-- be made again (a retryable failure, or a crashed run's lease that ran out),
-- whole and under their key, oldest first; then due messages not yet in a
-- request, oldest first, put into new requests of at most 100 with a new key.
-- Each message is leased to this run and counts an attempt. Claims take turns
-- (a transaction-scoped advisory lock): a request is claimed whole by one run.
create or replace function treasury.claim_outbox(
  batch_size int default 50,
  lease_seconds int default 120,
  at timestamptz default now()
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- Resend's limit on the emails of one batch request.
  per_request constant int := 100;
  taken uuid[] := '{}'::uuid[];
  fresh uuid[] := '{}'::uuid[];
  request record;
  claimed jsonb;
begin
  perform treasury_private.check_claim(batch_size, lease_seconds, at);
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('treasury.claim_outbox', 0));

  -- Requests to make again: every unsent message of the request is due and no run holds one.
  for request in
    select array_agg(m.id) as ids
    from treasury.outbox as m
    where m.request_key is not null and m.status in ('pending', 'sending')
    group by m.request_key
    having bool_and(m.next_attempt_at <= claim_outbox.at and (m.leased_until is null or m.leased_until <= claim_outbox.at))
    order by min(m.next_attempt_at), m.request_key
  loop
    -- Whole requests only; the first one even when it is larger than this claim's batch.
    exit when cardinality(taken) > 0 and cardinality(taken) + cardinality(request.ids) > batch_size;
    taken := taken || request.ids;
  end loop;

  -- Messages in no request yet, in new requests.
  if cardinality(taken) < batch_size then
    select coalesce(array_agg(d.id order by d.next_attempt_at, d.id), '{}') into fresh
    from (
      select m.id, m.next_attempt_at
      from treasury.outbox as m
      where m.request_key is null and m.status in ('pending', 'sending') and m.next_attempt_at <= claim_outbox.at
        and (m.leased_until is null or m.leased_until <= claim_outbox.at)
      order by m.next_attempt_at, m.id
      limit batch_size - cardinality(taken)
      for update
    ) as d;
  end if;

  -- One write per message: leased, and the fresh ones given their new request's key.
  with new_keys as (
    select f.id, k.request_key
    from unnest(fresh) with ordinality as f(id, n)
    join (select r, 'receipts/' || gen_random_uuid() as request_key
          from generate_series(0, (cardinality(fresh) - 1) / per_request) as r) as k
      on k.r = (f.n - 1) / per_request
  ), leased as (
    update treasury.outbox as m
    set status = 'sending', attempts = m.attempts + 1,
        leased_until = claim_outbox.at + make_interval(secs => lease_seconds),
        request_key = coalesce(m.request_key, n.request_key)
    from unnest(taken || fresh) as t(id)
    left join new_keys as n on n.id = t.id
    where m.id = t.id
    returning m.*
  )
  select coalesce(jsonb_agg(jsonb_build_object('id', l.id, 'request_key', l.request_key, 'kind', l.kind,
                                               'recipient_id', l.recipient_id, 'email', l.email, 'data', l.data,
                                               'attempts', l.attempts, 'created_at', l.created_at)
                            order by l.request_key, l.id), '[]')
  into claimed
  from leased as l;
  return claimed;
end
$$;

comment on function treasury.claim_outbox(int, int, timestamptz) is
  'The receipts sender''s work (service_role): about batch_size due messages of treasury.outbox, in whole Resend batch '
  'requests of at most 100, as [{"id", "request_key", "kind", "recipient_id", "email", "data", "attempts", '
  '"created_at"}] ordered by request_key, then id: the messages of one request_key are one POST /emails/batch with that '
  'Idempotency-Key, in that order. A request made before and not answered for good comes back whole under its key. '
  'Each message is now sending and leased for lease_seconds (concurrent runs skip it; a crashed run''s requests come '
  'back when the lease ends). 22023 bad argument.';

grant execute on function treasury.claim_outbox(int, int, timestamptz) to service_role;
