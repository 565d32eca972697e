-- What was recorded of a payment never changes; only what Stripe tells later
-- may be added: a charge or session id and the fee once, refunds and lost
-- disputes growing, the dispute state.
create or replace function treasury_private.guard_payments()
returns trigger
language plpgsql
as $$
declare
  unchanged treasury.payments;
begin
  if tg_op = 'UPDATE' then
    unchanged := new;
    unchanged.checkout_session_id := old.checkout_session_id;
    unchanged.charge_id := old.charge_id;
    unchanged.fee_minor := old.fee_minor;
    unchanged.refunded_minor := old.refunded_minor;
    unchanged.dispute_lost_minor := old.dispute_lost_minor;
    unchanged.dispute_state := old.dispute_state;
    if unchanged is not distinct from old
       and (old.checkout_session_id is null or new.checkout_session_id is not distinct from old.checkout_session_id)
       and (old.charge_id is null or new.charge_id is not distinct from old.charge_id)
       and (old.fee_minor is null or new.fee_minor is not distinct from old.fee_minor)
       and new.refunded_minor >= old.refunded_minor
       and new.dispute_lost_minor >= old.dispute_lost_minor then
      return new;
    end if;
  end if;
  raise exception using
    errcode = '42501',
    message = format('payments are kept as recorded: %s is refused', tg_op),
    hint = 'Only the charge and session ids and the fee may be added, refunds and lost disputes may grow.';
end
$$;
