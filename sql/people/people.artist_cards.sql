-- What a board or an artist page shows next to Coliseum's numbers: the artist's name and image (and home,
-- genres), for anybody, signed in or not, as the boards are. Only artists: a user who holds the artist role
-- or has DNA (a row of public.coliseum_domain_strength); other ids are left out, so a fan's profile is not
-- readable by anon through this door.
create or replace function people.artist_cards(ids uuid[])
returns table (
  artist_id uuid, name text, image_url text, city text, country text, genres text[], verified boolean)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform people_private.check_ids(ids);
  return query
  select c.user_id, c.display_name, c.avatar_url, c.city, c.country, c.genres, c.is_artist
  from people_private.cards(ids) as c
  where c.is_artist
     or exists (select from public.coliseum_domain_strength as s where s.artist_id = c.user_id);
end
$$;

comment on function people.artist_cards(uuid[]) is
  'Anybody: name, https image, city, country and genres of up to 500 artists (holders of the artist role, '
  'verified = true, or artists with DNA), to show beside coliseum.leaderboard / artist_profile. Other ids '
  'are left out. 22023 for no list or more than 500 ids.';

grant execute on function people.artist_cards(uuid[]) to anon, authenticated, service_role;
