create or replace function treasury.release_payout(payout_id uuid, note text default null)
returns treasury.payouts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  pay treasury.payouts;
  w treasury.wallets;
  artist record;
begin
  perform treasury_private.require_staff('releasing a held payout');
  if payout_id is null then
    raise exception using errcode = '22023', message = 'payout_id is required';
  end if;
  pay := treasury_private.lock_payout(payout_id);
  if pay.state <> 'held' then
    raise exception using errcode = '55000', message = format('payout %s is %s: only held payouts are released', pay.id, pay.state);
  end if;
  select * into w from treasury.wallets as x where x.user_id = pay.payee_id;
  if w.verification is distinct from 'verified' then
    raise exception using errcode = '55000',
      message = format('the wallet %s of payout %s is not verified', coalesce(w.wallet_id, '(none)'), pay.id),
      hint = 'Verify the wallet (treasury.set_wallet_verification) first; its held payouts are then released by themselves.';
  end if;
  select * into artist from treasury_private.artist_hold_check(pay.payee_id, pay.currency, pay.amount_minor, pay.id);
  if artist.held_minor > 0 then
    raise exception using errcode = '55000', detail = 'artist_held',
      message = format('payout %s would draw on a held artist''s earnings: %s', pay.id, artist.detail),
      hint = 'Release the artist (coliseum.release_artist): their payouts held for it are then queued by themselves.';
  end if;
  update treasury.payouts as p
  set released_by = auth.uid(), released_at = now(), release_note = left(note, 500)
  where p.id = pay.id
  returning * into pay;
  return treasury_private.payout_transition(pay, 'pending', now(),
    case when auth.uid() is null then 'service' else 'admin' end, auth.uid(), now(),
    coalesce(left(note, 500), 'released'));
end
$$;

comment on function treasury.release_payout(uuid, text) is
  'An admin releases a held payout after review: it is queued (pending) and sent by the next run of the queue. '
  'The wallet must be verified and the payee not a held artist whose held earnings would fund it. 42501 not an '
  'admin; P0002 unknown payout; 55000 not held, the wallet unverified, or the artist held.';

grant execute on function treasury.release_payout(uuid, text) to authenticated, service_role;
