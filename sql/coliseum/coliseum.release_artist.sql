-- An admin releases an artist's open hold: the row is closed and the Passport
-- event coliseum.artist_released logged, in one transaction. The artist is
-- back on the boards from this commit on, and their payouts held only for
-- the hold (and for a wallet verified since) are queued again: the next run
-- of the queue sends them.
create or replace function coliseum.release_artist(artist_id uuid, reason text)
returns coliseum.artist_holds
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  hold coliseum.artist_holds;
  entry_id bigint;
begin
  perform coliseum_private.begin_hold_change(release_artist.artist_id, release_artist.reason, 'releasing');
  select * into hold from coliseum.artist_holds as h
  where h.artist_id = release_artist.artist_id and h.released_at is null
  for update;
  if not found then
    if not coliseum_private.known_artist(release_artist.artist_id) then
      raise exception using errcode = 'P0002', detail = 'unknown_artist',
        message = format('unknown artist %s', release_artist.artist_id);
    end if;
    raise exception using errcode = '55000', detail = 'not_held',
      message = format('artist %s is not held', release_artist.artist_id),
      hint = 'coliseum.artist_holds lists their holds, open and released.';
  end if;

  entry_id := passport.log(
    user_id => hold.artist_id,
    kind => 'coliseum.artist_released',
    client_event_id => 'coliseum:hold:' || hold.id || ':released',
    payload => jsonb_build_object('hold_id', hold.id, 'reason', btrim(release_artist.reason)),
    artist_id => hold.artist_id,
    source => 'system');
  update coliseum.artist_holds as h
  set released_at = now(), released_by = auth.uid(), release_reason = btrim(release_artist.reason),
      released_entry_id = entry_id
  where h.id = hold.id
  returning * into hold;

  perform treasury_private.release_cleared_payouts(hold.artist_id,
    format('artist hold %s released: %s', hold.id, hold.release_reason));
  return hold;
end
$$;

comment on function coliseum.release_artist(uuid, text) is
  'Admins and the service role: ends an artist''s hold (back on the boards) and logs coliseum.artist_released to '
  'Passport; their payouts held for it are queued again. 42501 not an admin; 22023 bad argument; P0002 unknown '
  'artist; 55000 not held.';

grant execute on function coliseum.release_artist(uuid, text) to authenticated, service_role;
