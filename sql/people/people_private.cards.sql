-- The public face of each user: what they set in people.profiles, else what the app already knows
-- (people_private.app_profiles). One row per distinct id asked, nulls where nothing is known.
create or replace function people_private.cards(ids uuid[])
returns table (
  user_id uuid, display_name text, avatar_url text, city text, country text, genres text[], is_artist boolean,
  is_host boolean)
language sql
stable
as $$
  select a.user_id,
         coalesce(p.display_name, a.display_name),
         coalesce(p.avatar_url, a.avatar_url),
         p.city,
         p.country::text,
         coalesce(p.genres, '{}'),
         exists (select from people.role_grants as g
                 where g.user_id = a.user_id and g.role = 'artist' and g.revoked_at is null),
         exists (select from people.role_grants as g
                 where g.user_id = a.user_id and g.role = 'host' and g.revoked_at is null)
  from people_private.app_profiles(ids) as a
  left join people.profiles as p on p.user_id = a.user_id
$$;

comment on function people_private.cards(uuid[]) is
  'Per distinct id: display name and avatar (people.profiles, else the app''s own data), city, country, '
  'genres, and whether the user holds the artist and host roles.';
