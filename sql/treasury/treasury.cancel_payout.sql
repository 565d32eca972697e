create or replace function treasury.cancel_payout(payout_id uuid, note text default null)
returns treasury.payouts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  pay treasury.payouts;
  staff boolean := treasury_private.caller_is_staff();
begin
  if payout_id is null then
    raise exception using errcode = '22023', message = 'payout_id is required';
  end if;
  if auth.uid() is null and not staff then
    raise exception using errcode = '42501', message = 'sign in to cancel a payout';
  end if;
  if not staff and not exists (select 1 from treasury.payouts as p where p.id = payout_id and p.payee_id = auth.uid()) then
    if exists (select 1 from treasury.payouts as p where p.id = payout_id) then
      raise exception using errcode = '42501', message = format('payout %s is not yours', payout_id);
    end if;
  end if;
  pay := treasury_private.lock_payout(payout_id);
  if not (pay.state in ('held', 'pending') or (pay.state = 'failed' and pay.due_at is not null)) then
    raise exception using errcode = '55000',
      message = format('payout %s is %s: only held, pending or retrying payouts are cancelled', pay.id,
                       case when pay.state = 'failed' then 'failed for good' else pay.state end);
  end if;
  update treasury.payouts as p
  set cancelled_by = auth.uid(), cancel_note = left(note, 500)
  where p.id = pay.id
  returning * into pay;
  return treasury_private.payout_transition(pay, 'cancelled', null,
    case when auth.uid() = pay.payee_id then 'payee' when auth.uid() is not null then 'admin' else 'service' end,
    auth.uid(), now(), coalesce(left(note, 500), 'cancelled'));
end
$$;

comment on function treasury.cancel_payout(uuid, text) is
  'Cancels a payout that is held, pending or waiting for a retry; its money returns to the payee''s available '
  'balance. The payee cancels their own, admins any. 42501 not yours; P0002 unknown; 55000 already sent or over.';

grant execute on function treasury.cancel_payout(uuid, text) to authenticated, service_role;
