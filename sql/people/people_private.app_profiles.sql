-- What the existing app already knows of these users, so that nothing is kept twice: a display name and an
-- avatar from the app's own public.profiles table when it exists (the columns Supabase's templates use:
-- display_name, full_name, name, username, avatar_url), else from auth.users' raw_user_meta_data (what
-- sign-up and OAuth providers fill in: full_name, name, user_name, avatar_url). Only https avatars. The
-- table is looked up when called (an app may create it after Buckets is installed), so the query is built
-- from the columns it has. One row per id asked; nulls where nothing is known.
create or replace function people_private.app_profiles(ids uuid[])
returns table (user_id uuid, display_name text, avatar_url text)
language plpgsql
stable
as $$
declare
  app regclass := to_regclass('public.profiles');
  cols text[];
  name_cols text[];
  app_name text := 'null';
  app_avatar text := 'null';
  app_join text := '';
begin
  if app is not null and exists (
    select from pg_catalog.pg_attribute as a
    where a.attrelid = app and a.attname = 'id' and a.atttypid = 'uuid'::regtype and not a.attisdropped) then
    select array_agg(a.attname::text) into cols
    from pg_catalog.pg_attribute as a
    where a.attrelid = app and a.attnum > 0 and not a.attisdropped
      and a.atttypid in ('text'::regtype, 'varchar'::regtype)
      and a.attname in ('display_name', 'full_name', 'name', 'username', 'avatar_url');
    select array_agg(format('nullif(btrim(p.%I), %L)', c, '') order by array_position(
             array['display_name', 'full_name', 'name', 'username'], c))
      into name_cols
    from unnest(cols) as c
    where c <> 'avatar_url';
    if name_cols is not null then
      app_name := format('coalesce(%s)', array_to_string(name_cols, ', '));
    end if;
    if 'avatar_url' = any (cols) then
      app_avatar := 'p.avatar_url';
    end if;
    app_join := 'left join public.profiles as p on p.id = t.id';
  end if;
  return query execute format($q$
    select t.id,
           left(coalesce(%s,
                         nullif(btrim(u.raw_user_meta_data ->> 'full_name'), ''),
                         nullif(btrim(u.raw_user_meta_data ->> 'name'), ''),
                         nullif(btrim(u.raw_user_meta_data ->> 'user_name'), '')), 80),
           (select a.url
            from (values (1, %s::text), (2, u.raw_user_meta_data ->> 'avatar_url')) as a (n, url)
            where a.url ~ '^https://[^\s/?#]+[^\s]*$' and char_length(a.url) <= 2000
            order by a.n limit 1)
    from (select distinct x.id from unnest($1) as x (id) where x.id is not null) as t
    left join auth.users as u on u.id = t.id
    %s
  $q$, app_name, app_avatar, app_join) using ids;
end
$$;

comment on function people_private.app_profiles(uuid[]) is
  'The display name and https avatar the existing app knows for each id: public.profiles when it exists '
  '(display_name, full_name, name, username, avatar_url, whichever it has), else auth.users metadata.';
