-- Moves a (locked) payout to another state: posts its money from where the
-- old state keeps it to where the new one does, logs the transition, updates
-- the row. The caller holds lock_currency.
create or replace function treasury_private.payout_transition(
  pay treasury.payouts,
  to_state text,
  to_due timestamptz,
  actor text,
  actor_id uuid,
  occurred timestamptz,
  reason text default null,
  event_id text default null
)
returns treasury.payouts
language plpgsql
volatile
as $$
declare
  -- A new payout's row already has its first state: it comes from payable.
  old_location text := case when pay.transitions = 0 then 'payable' else treasury_private.payout_location(pay.state, pay.due_at) end;
  new_location text := treasury_private.payout_location(to_state, to_due);
  seq int := pay.transitions + 1;
  txn bigint;
begin
  if old_location = new_location then
    raise exception using errcode = '55000',
      message = format('payout %s: %s -> %s moves no money', pay.id, pay.state, to_state);
  end if;
  txn := treasury_private.post(
    case when pay.transitions = 0 then 'payout_request' else 'payout_' || to_state end,
    pay.id || ':' || seq,
    jsonb_build_array(
      jsonb_build_object('account_id', treasury_private.account(case when old_location = 'payable' then pay.payee_id end,
                                                                old_location, pay.currency),
                         'amount', pay.amount_minor),
      jsonb_build_object('account_id', treasury_private.account(case when new_location = 'payable' then pay.payee_id end,
                                                                new_location, pay.currency),
                         'amount', -pay.amount_minor)),
    event_id);
  insert into treasury.payout_transitions
    (payout_id, seq, from_state, to_state, retrying, attempt, actor, actor_id, stripe_event_id, ledger_txn_id, reason, occurred_at)
  values (pay.id, seq, case when pay.transitions = 0 then null else pay.state end, to_state,
          to_state = 'failed' and to_due is not null, nullif(pay.attempts, 0), actor, actor_id, event_id, txn, reason, occurred);
  update treasury.payouts as p
  set state = to_state, due_at = to_due, transitions = seq, updated_at = now()
  where p.id = pay.id
  returning * into pay;
  return pay;
end
$$;
