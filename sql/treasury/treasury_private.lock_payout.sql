-- A payout locked for a change, after its currency's lock (the order every
-- writer follows). P0002 when it does not exist.
create or replace function treasury_private.lock_payout(payout_id uuid)
returns treasury.payouts
language plpgsql
volatile
as $$
declare
  cur text;
  pay treasury.payouts;
begin
  select p.currency into cur from treasury.payouts as p where p.id = payout_id;
  if cur is null then
    raise exception using errcode = 'P0002', message = format('payout %s not found', coalesce(payout_id::text, 'null'));
  end if;
  perform treasury_private.lock_currency(cur);
  select * into pay from treasury.payouts as p where p.id = payout_id for update;
  return pay;
end
$$;
