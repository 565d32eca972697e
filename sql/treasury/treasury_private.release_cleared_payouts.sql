-- Queues again the held payouts of a payee whose every hold reason is gone:
-- held only for an unverified wallet that is verified now and/or for an
-- artist hold that is released (untraced earnings need an admin's
-- release_payout). The queue checks both again when it sends. Returns how
-- many it queued.
create or replace function treasury_private.release_cleared_payouts(payee uuid, why text)
returns int
language plpgsql
volatile
as $$
declare
  held record;
  pay treasury.payouts;
  queued int := 0;
begin
  for held in
    select p.id from treasury.payouts as p
    where p.payee_id = payee and p.state = 'held'
      and p.hold_reasons <@ array['wallet_unverified', 'artist_held']
      and (not 'wallet_unverified' = any (p.hold_reasons)
           or exists (select from treasury.wallets as w where w.user_id = payee and w.verification = 'verified'))
      and (not 'artist_held' = any (p.hold_reasons)
           or not exists (select from coliseum.artist_holds as h where h.artist_id = payee and h.released_at is null))
    order by p.currency, p.requested_at, p.id
  loop
    pay := treasury_private.lock_payout(held.id);
    continue when pay.state <> 'held';
    perform treasury_private.payout_transition(pay, 'pending', now(), 'service', null, now(), why);
    queued := queued + 1;
  end loop;
  return queued;
end
$$;
