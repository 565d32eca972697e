-- What is wrong with a lineup a host proposes ([{"artist_id", "share_bp"}, ...]
-- in billing order) next to the host's and the platform's shares; null when
-- nothing is. Every artist must hold the artist role.
create or replace function concierto_private.lineup_problem(lineup jsonb, host_share_bp int, platform_share_bp int)
returns text
language sql
stable
as $$
  with entries as (
    select x, i, treasury_private.as_uuid(x ->> 'artist_id') as artist_id,
           treasury_private.json_bigint(x -> 'share_bp') as share_bp
    from jsonb_array_elements(case when jsonb_typeof(lineup) = 'array' then lineup else '[]' end) with ordinality as l(x, i)
    where jsonb_typeof(x) = 'object'
  )
  select case
    when jsonb_typeof(lineup) is distinct from 'array' or jsonb_array_length(lineup) > 50 then
      'lineup must be a JSON array of at most 50 {"artist_id", "share_bp"} objects, the headliner first'
    when (select count(*) from entries) <> jsonb_array_length(lineup) then
      'every lineup entry must be an object {"artist_id", "share_bp"}'
    when exists (select 1 from entries as e where e.artist_id is null) then
      format('lineup[%s].artist_id must be a user''s UUID', (select min(e.i) - 1 from entries as e where e.artist_id is null))
    when exists (select 1 from entries as e where e.share_bp is null or e.share_bp not between 0 and 10000) then
      format('lineup[%s].share_bp must be an integer from 0 to 10000 basis points',
             (select min(e.i) - 1 from entries as e where e.share_bp is null or e.share_bp not between 0 and 10000))
    when (select count(distinct e.artist_id) from entries as e) <> (select count(*) from entries) then
      'the lineup must not name an artist twice'
    when host_share_bp is null or host_share_bp not between 0 and 10000 then
      'host_share_bp must be 0 to 10000 basis points'
    when host_share_bp + platform_share_bp + (select coalesce(sum(e.share_bp), 0) from entries as e) > 10000 then
      format('the host (%s), lineup (%s) and platform (%s) shares sum to %s basis points, more than 10000',
             host_share_bp, (select coalesce(sum(e.share_bp), 0) from entries as e), platform_share_bp,
             host_share_bp + platform_share_bp + (select coalesce(sum(e.share_bp), 0) from entries as e))
    when exists (select 1 from entries as e where not people.has_role('artist', e.artist_id)) then
      format('%s is not a verified artist', (select e.artist_id from entries as e
                                             where not people.has_role('artist', e.artist_id) order by e.i limit 1))
  end
$$;
