-- The receipts sender's batch: pending messages that are due, and messages a
-- crashed run left sending once their lease ran out (sent again with the same
-- idempotency key, the row id, which Resend answers once), oldest first. Each
-- is leased to this run (FOR UPDATE SKIP LOCKED, then leased_until) and
-- counts an attempt.
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
  claimed jsonb;
begin
  perform treasury_private.check_claim(batch_size, lease_seconds, at);
  with due as (
    select m.id from treasury.outbox as m
    where m.status in ('pending', 'sending') and m.next_attempt_at <= claim_outbox.at
      and (m.leased_until is null or m.leased_until <= claim_outbox.at)
    order by m.next_attempt_at, m.id
    limit batch_size
    for update skip locked
  ), leased as (
    update treasury.outbox as m
    set status = 'sending', attempts = m.attempts + 1,
        leased_until = claim_outbox.at + make_interval(secs => lease_seconds)
    from due
    where m.id = due.id
    returning m.*
  )
  select coalesce(jsonb_agg(jsonb_build_object('id', l.id, 'kind', l.kind, 'recipient_id', l.recipient_id, 'email', l.email,
                                               'data', l.data, 'attempts', l.attempts, 'created_at', l.created_at)
                            order by l.next_attempt_at, l.id), '[]')
  into claimed
  from leased as l;
  return claimed;
end
$$;

comment on function treasury.claim_outbox(int, int, timestamptz) is
  'The receipts sender''s batch (service_role): up to batch_size due messages of treasury.outbox as [{"id", "kind", '
  '"recipient_id", "email", "data", "attempts", "created_at"}], each now sending and leased for lease_seconds '
  '(concurrent runs skip them; a crashed run''s rows come back when the lease ends). 22023 bad argument.';

grant execute on function treasury.claim_outbox(int, int, timestamptz) to service_role;
