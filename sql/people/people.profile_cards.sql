-- The public profile of any users, for the signed-in app (a fan list, a lineup, a transfer's recipient).
create or replace function people.profile_cards(ids uuid[])
returns table (
  user_id uuid, display_name text, avatar_url text, city text, country text, genres text[], is_artist boolean,
  is_host boolean)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform people_private.check_ids(ids);
  return query select * from people_private.cards(ids);
end
$$;

comment on function people.profile_cards(uuid[]) is
  'Signed-in users: the public profile of up to 500 users (display name, https avatar, city, ISO country, '
  'genres, artist and host roles), from people.profiles else the app''s public.profiles / auth metadata. One '
  'row per distinct id, nulls where nothing is known. 22023 for no list or more than 500 ids.';

grant execute on function people.profile_cards(uuid[]) to authenticated, service_role;
