-- An admin holds an artist off the boards: a row of coliseum.artist_holds and
-- the Passport event coliseum.artist_held, in one transaction. The boards
-- leave the artist out from this commit on (they read the open holds), and
-- Treasury holds the payouts that would draw on the artist's earnings of the
-- held activity (treasury_private.artist_hold_check): new requests at once,
-- queued ones when the queue comes to send them.
create or replace function coliseum.hold_artist(
  artist_id uuid,
  reason text,
  evidence jsonb default '{}',
  activity_since timestamptz default null
)
returns coliseum.artist_holds
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  hold coliseum.artist_holds;
  hold_id uuid := gen_random_uuid();
  entry_id bigint;
begin
  perform coliseum_private.begin_hold_change(hold_artist.artist_id, hold_artist.reason, 'holding');
  if hold_artist.evidence is null or jsonb_typeof(hold_artist.evidence) <> 'object' then
    raise exception using errcode = '22023', message = 'evidence must be a JSON object',
      hint = 'For example the artist''s row of coliseum.integrity_report: {"signals": {...}}.';
  end if;
  if hold_artist.activity_since > now() then
    raise exception using errcode = '22023',
      message = format('activity_since must not be in the future, got %s', hold_artist.activity_since);
  end if;
  if not coliseum_private.known_artist(hold_artist.artist_id) then
    raise exception using errcode = 'P0002', detail = 'unknown_artist',
      message = format('unknown artist %s', hold_artist.artist_id),
      hint = 'An artist is known once an event naming them was scored, or Treasury sells a product of theirs.';
  end if;

  select * into hold from coliseum.artist_holds as h where h.artist_id = hold_artist.artist_id and h.released_at is null;
  if found then
    raise exception using errcode = '55000', detail = 'already_held',
      message = format('artist %s is held already (hold %s, since %s)', hold_artist.artist_id, hold.id, hold.held_at),
      hint = 'Release the hold first (coliseum.release_artist) to hold them again with another reason.';
  end if;

  entry_id := passport.log(
    user_id => hold_artist.artist_id,
    kind => 'coliseum.artist_held',
    client_event_id => 'coliseum:hold:' || hold_id || ':held',
    payload => jsonb_strip_nulls(jsonb_build_object(
      'hold_id', hold_id, 'reason', btrim(hold_artist.reason),
      'activity_since', to_char(hold_artist.activity_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))),
    artist_id => hold_artist.artist_id,
    source => 'system');
  insert into coliseum.artist_holds as h (id, artist_id, reason, evidence, activity_since, held_by, held_entry_id)
  values (hold_id, hold_artist.artist_id, btrim(hold_artist.reason), hold_artist.evidence, hold_artist.activity_since,
          auth.uid(), entry_id)
  returning * into hold;
  return hold;
end
$$;

comment on function coliseum.hold_artist(uuid, text, jsonb, timestamptz) is
  'Admins and the service role: holds an artist off every board (until coliseum.release_artist) and logs '
  'coliseum.artist_held to Passport. Their payouts that would draw on their earnings of payments made since '
  'activity_since (null: all) are held (artist_held). 42501 not an admin; 22023 bad argument; P0002 unknown artist; '
  '55000 already held.';

grant execute on function coliseum.hold_artist(uuid, text, jsonb, timestamptz) to authenticated, service_role;
