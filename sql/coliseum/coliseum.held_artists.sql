-- The artists held off the boards now (an open row of coliseum.artist_holds).
-- The boards' row level security reads it once per statement, as the caller,
-- so the API roles may call it; it names only artists every board already
-- leaves out, never why.
create or replace function coliseum.held_artists()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select h.artist_id from coliseum.artist_holds as h where h.released_at is null
$$;

comment on function coliseum.held_artists() is
  'Row level security helper: the artists held off the boards now (coliseum.hold_artist).';

grant execute on function coliseum.held_artists() to anon, authenticated, service_role;
