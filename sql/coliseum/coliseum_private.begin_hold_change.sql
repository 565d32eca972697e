-- What holding and releasing an artist both check first, in this order:
-- the caller is an admin or the service role (42501), artist_id and a
-- reason of 1 to 500 characters are given (22023). Then it takes the
-- artist's hold lock, so that holds and releases of one artist run one at a
-- time. `action` names the change in the refusal: 'holding', 'releasing'.
create or replace function coliseum_private.begin_hold_change(artist_id uuid, reason text, action text)
returns void
language plpgsql
volatile
as $$
begin
  if not treasury_private.caller_is_staff() then
    raise exception using errcode = '42501', message = format('%s an artist is for admins', action),
      hint = 'An admin is a row of treasury.admins; the service role may hold and release artists too.';
  end if;
  if begin_hold_change.artist_id is null then
    raise exception using errcode = '22023', message = 'artist_id is required';
  end if;
  if begin_hold_change.reason is null or char_length(btrim(begin_hold_change.reason)) not between 1 and 500 then
    raise exception using errcode = '22023', message = 'reason must be a text of 1 to 500 characters',
      hint = 'Say why, in words the artist may read: it is logged to Passport and shown to them.';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('coliseum.artist_hold:' || begin_hold_change.artist_id::text, 0));
end
$$;
