-- The signed-in user's profile as the app shows it (with the fallbacks) and as they set it here.
create or replace function people.my_profile()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('read your profile');
  card record;
  own people.profiles;
begin
  select * into card from people_private.cards(array[me]);
  select * into own from people.profiles as p where p.user_id = me;
  return jsonb_build_object(
    'user_id', me,
    'display_name', card.display_name,
    'avatar_url', card.avatar_url,
    'city', card.city,
    'country', card.country,
    'genres', to_jsonb(card.genres),
    'roles', (select coalesce(jsonb_agg(r.role order by r.role), '[]'::jsonb) from people.my_roles() as r),
    -- exactly what the user set in people.profiles (null: nothing yet); the fields above fall back
    'set', case when own.user_id is not null then jsonb_build_object(
      'display_name', own.display_name, 'avatar_url', own.avatar_url, 'city', own.city,
      'country', own.country, 'genres', to_jsonb(own.genres), 'version', own.version,
      'created_at', own.created_at, 'updated_at', own.updated_at) end);
end
$$;

comment on function people.my_profile() is
  'The signed-in user''s profile: display_name, avatar_url, city, country, genres (people.profiles, else the '
  'app''s public.profiles / auth metadata), roles (people.my_roles), and set: what they set here (null if '
  'nothing). 42501 without a signed-in user.';

grant execute on function people.my_profile() to authenticated;
