-- The caller's listening history, newest first: one row per track played for 30 s or more, with the plays
-- made and those the counting rules counted. Keyset pages: pass the last row's last_played_at and track_id
-- to get the next page (both or neither). Runs as the caller, under fan_tracks' RLS.
create or replace function coliseum.my_history(
  max_rows int default 50,
  before_played_at timestamptz default null,
  before_track_id uuid default null
)
returns table (track_id uuid, artist_id uuid, plays bigint, counted_plays bigint, first_played_at timestamptz,
               last_played_at timestamptz)
language plpgsql
stable
set search_path = ''
-- Plan each call with its own arguments, so that the cursor left null drops out and the keyset condition
-- becomes an index bound (as passport.timeline does).
set plan_cache_mode = force_custom_plan
as $$
declare
  me uuid := auth.uid();
begin
  if me is null then
    raise exception using
      errcode = '42501',
      message = 'sign in to read your listening history',
      hint = 'Call with a user''s access token.';
  end if;
  if max_rows is null or max_rows not between 1 and 200 then
    raise exception using
      errcode = '22023',
      message = format('max_rows must be between 1 and 200, got %s', coalesce(max_rows::text, 'null'));
  end if;
  if (before_played_at is null) <> (before_track_id is null) then
    raise exception using
      errcode = '22023',
      message = 'before_played_at and before_track_id go together: pass both (the last row of a page) or neither';
  end if;
  return query
  select f.track_id, f.artist_id, f.plays, f.counted_plays, f.first_played_at, f.last_played_at
  from coliseum.fan_tracks as f
  where f.fan_id = me
    and (before_played_at is null or (f.last_played_at, f.track_id) < (before_played_at, before_track_id))
  order by f.last_played_at desc, f.track_id desc
  limit max_rows;
end
$$;

comment on function coliseum.my_history(int, timestamptz, uuid) is
  'The caller''s tracks, newest first (keyset: before_played_at + before_track_id of the last row): track_id, '
  'artist_id, plays, counted_plays, first_played_at, last_played_at. 42501 for anon, 22023 for bad arguments.';

revoke execute on function coliseum.my_history(int, timestamptz, uuid) from public;
grant execute on function coliseum.my_history(int, timestamptz, uuid) to authenticated, service_role;
