-- The signed-in user changes their profile: the keys of changes are set (null clears a field), the others
-- stay. Every field is checked and normalised here, so the app gets one clear error per mistake; the
-- change is logged to Passport (profile.updated, its fields in section) in the same transaction.
create or replace function people.update_profile(changes jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('change your profile');
  fields constant text[] := array['display_name', 'avatar_url', 'city', 'country', 'genres'];
  unknown text;
  p people.profiles;
  v jsonb;
  g text;
  changed text[];
begin
  if changes is null or jsonb_typeof(changes) <> 'object' then
    raise exception using errcode = '22023', message = 'changes must be a JSON object of profile fields',
      hint = 'Fields: display_name, avatar_url, city, country, genres.';
  end if;
  select k into unknown from jsonb_object_keys(changes) as k where k <> all (fields) order by k limit 1;
  if unknown is not null then
    raise exception using errcode = '22023', message = format('unknown profile field %L', unknown),
      hint = 'Fields: display_name, avatar_url, city, country, genres.';
  end if;
  select * into p from people.profiles as x where x.user_id = me for update;
  if not found then
    p.user_id := me;
    p.genres := '{}';
  end if;
  select array_agg(k order by k) into changed from jsonb_object_keys(changes) as k;

  if changes ? 'display_name' then
    v := changes -> 'display_name';
    p.display_name := people_private.text_field(v, 'display_name', 80);
  end if;
  if changes ? 'avatar_url' then
    v := changes -> 'avatar_url';
    p.avatar_url := people_private.text_field(v, 'avatar_url', 2000);
    if p.avatar_url !~ '^https://[^\s/?#]+[^\s]*$' then
      raise exception using errcode = '22023', message = 'avatar_url must be an https:// URL without spaces';
    end if;
  end if;
  if changes ? 'city' then
    p.city := people_private.text_field(changes -> 'city', 'city', 100);
  end if;
  if changes ? 'country' then
    p.country := upper(people_private.text_field(changes -> 'country', 'country', 2));
    if p.country !~ '^[A-Z]{2}$' then
      raise exception using errcode = '22023', message = 'country must be an ISO 3166-1 alpha-2 code such as NG or DE';
    end if;
  end if;
  if changes ? 'genres' then
    v := changes -> 'genres';
    if jsonb_typeof(v) = 'null' then
      p.genres := '{}';
    elsif jsonb_typeof(v) <> 'array' then
      raise exception using errcode = '22023', message = 'genres must be an array of genre names';
    else
      p.genres := '{}';
      for g in select people_private.text_field(e, 'genres', 40) from jsonb_array_elements(v) as e loop
        g := lower(g);
        if g is null or g !~ '^[a-z0-9][a-z0-9 &''+-]*$' then
          raise exception using errcode = '22023',
            message = format('genre %L is not a genre name: lower-case letters, digits, spaces, & '' + -', g);
        end if;
        if g <> all (p.genres) then
          p.genres := p.genres || g;
        end if;
      end loop;
      if cardinality(p.genres) > 10 then
        raise exception using errcode = '22023', message = format('at most 10 genres, got %s', cardinality(p.genres));
      end if;
    end if;
  end if;

  insert into people.profiles as x (user_id, display_name, avatar_url, city, country, genres)
  values (me, p.display_name, p.avatar_url, p.city, p.country, p.genres)
  on conflict (user_id) do update set
    display_name = excluded.display_name, avatar_url = excluded.avatar_url, city = excluded.city,
    country = excluded.country, genres = excluded.genres, version = x.version + 1, updated_at = now()
  where (x.display_name, x.avatar_url, x.city, x.country, x.genres)
        is distinct from (excluded.display_name, excluded.avatar_url, excluded.city, excluded.country, excluded.genres)
  returning * into p;
  if found then
    perform passport.log(me, 'profile.updated', 'people:profile:' || p.version,
      jsonb_build_object('section', array_to_string(changed, ',')), null, now(), 'system');
  end if;
  return people.my_profile();
end
$$;

comment on function people.update_profile(jsonb) is
  'The signed-in user sets profile fields: changes is an object of display_name (1-80 characters), '
  'avatar_url (https), city (1-100), country (ISO alpha-2), genres (up to 10 genre names, lower-cased); '
  'null clears a field, absent keys stay. Logs profile.updated when something changed. Returns '
  'people.my_profile(). 22023 naming the field at fault; 42501 without a signed-in user.';

grant execute on function people.update_profile(jsonb) to authenticated;
