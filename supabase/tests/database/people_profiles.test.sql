-- People profiles: the user's own edits (every field checked, null clears, absent keys stay), the Passport
-- entry of a change, the reads with their fallbacks (the app's public.profiles when it exists, else
-- auth.users metadata), artist cards for boards, and who reads what: the user, another user, anon, an
-- admin, service_role.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(48);
\ir people_helpers.psql

-- Fallbacks before anything is set ------------------------------------------------------------------------
select pg_temp.act_as(:'me');
select is(people.my_profile() ->> 'display_name', 'Ada From OAuth', 'nothing set: the name comes from auth metadata');
select is(people.my_profile() ->> 'avatar_url', 'https://cdn.example/ada.png', 'and the https avatar');
select is(people.my_profile() -> 'set', 'null'::jsonb, 'set is null: nothing set here yet');
select is(people.my_profile() -> 'roles', '["fan"]'::jsonb, 'a signed-in user is a fan');
select results_eq(format('select display_name, avatar_url from people.profile_cards(array[%L]::uuid[])', :'other'),
                  $$values ('Other Person'::text, null::text)$$, 'another user''s card: name, and no http avatar');
reset role;

-- Edits --------------------------------------------------------------------------------------------------
select pg_temp.act_as(:'me');
select is((people.update_profile('{"display_name": "  Ada  ", "city": "Lagos", "country": "ng",
                                   "genres": ["Afrobeats", "afrobeats", "highlife"]}') -> 'set')
            - 'created_at'::text - 'updated_at'::text,
          '{"display_name": "Ada", "avatar_url": null, "city": "Lagos", "country": "NG",
            "genres": ["afrobeats", "highlife"], "version": 1}'::jsonb,
          'the user sets fields: trimmed, country upper-cased, genres lower-cased once each');
select is(people.my_profile() ->> 'display_name', 'Ada', 'their own name wins over the metadata');
select is(people.my_profile() ->> 'avatar_url', 'https://cdn.example/ada.png', 'an unset avatar still falls back');
select is(people.update_profile('{"avatar_url": "https://img.example/a.jpg"}') -> 'set' ->> 'city', 'Lagos',
          'absent keys stay');
select is(people.update_profile('{"city": null}') -> 'set' -> 'city', 'null'::jsonb, 'null clears a field');
select is((people.update_profile('{"city": null}') -> 'set' ->> 'version')::int, 3, 'a change that changes nothing is no version');
reset role;
select is((select count(*) from public.passport_entries where user_id = :'me' and kind = 'profile.updated'), 3::bigint,
          'each change is one profile.updated entry');
select is((select payload ->> 'section' from public.passport_entries
           where user_id = :'me' and kind = 'profile.updated' order by id limit 1),
          'city,country,display_name,genres', 'naming the fields it changed');

-- Every field checked ------------------------------------------------------------------------------------
select is(pg_temp.refusal(:'me', $$select people.update_profile('[1]')$$),
          '22023 changes must be a JSON object of profile fields', 'changes is an object');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"bio": "x"}')$$),
          '22023 unknown profile field ''bio''', 'unknown fields are named');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"display_name": ""}')$$),
          '22023 display_name must be 1 to 80 characters (null clears it)', 'an empty name');
select is(pg_temp.refusal(:'me', format($$select people.update_profile('{"display_name": "%s"}')$$, repeat('x', 81))),
          '22023 display_name must be 1 to 80 characters (null clears it)', 'a long name');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"display_name": 7}')$$),
          '22023 display_name must be a string or null', 'a name that is no string');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"avatar_url": "http://x.example/a.png"}')$$),
          '22023 avatar_url must be an https:// URL without spaces', 'an http avatar');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"avatar_url": "https://x.example/a b.png"}')$$),
          '22023 avatar_url must be an https:// URL without spaces', 'an avatar with a space');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"country": "N1"}')$$),
          '22023 country must be an ISO 3166-1 alpha-2 code such as NG or DE', 'a country that is no code');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"country": "NGA"}')$$),
          '22023 country must be 1 to 2 characters (null clears it)', 'a three-letter country');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"genres": "rock"}')$$),
          '22023 genres must be an array of genre names', 'genres is an array');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"genres": ["rock!"]}')$$),
          '22023 genre ''rock!'' is not a genre name: lower-case letters, digits, spaces, & '' + -', 'a genre name');
select is(pg_temp.refusal(:'me', $$select people.update_profile('{"genres": ["a","b","c","d","e","f","g","h","i","j","k"]}')$$),
          '22023 at most 10 genres, got 11', 'at most 10 genres');
select is((select version from people.profiles where user_id = :'me'), 3, 'a refused change changes nothing');

-- The app's own public.profiles, where it exists ------------------------------------------------------------
create table public.profiles (id uuid primary key, username text, full_name text, avatar_url text, website text);
insert into public.profiles (id, username, full_name, avatar_url) values
  (:'other', 'otto', 'Otto Appname', 'https://app.example/otto.png'),
  (:'admin', 'root_admin', null, null);
select pg_temp.act_as(:'me');
select results_eq(format('select display_name, avatar_url from people.profile_cards(array[%L, %L]::uuid[]) order by display_name',
                         :'other', :'admin'),
                  $$values ('Otto Appname'::text, 'https://app.example/otto.png'::text), ('root_admin', null)$$,
                  'public.profiles is read: full_name, else username, and its avatar');
select is(people.my_profile() ->> 'display_name', 'Ada', 'what the user set here still wins');
reset role;
alter table public.profiles drop column full_name;
select pg_temp.act_as(:'me');
select is((select display_name from people.profile_cards(array[:'other']::uuid[])), 'otto',
          'the columns it has are read (no full_name: username)');
reset role;
drop table public.profiles;
select pg_temp.act_as(:'me');
select is((select display_name from people.profile_cards(array[:'other']::uuid[])), 'Other Person',
          'without public.profiles, auth metadata again');
select is((select count(*) from people.profile_cards(array[:'other', :'other', null]::uuid[])), 1::bigint,
          'one card per distinct id');
reset role;
select is(pg_temp.refusal(:'me', $$select people.profile_cards(array(select gen_random_uuid() from generate_series(1, 501)))$$),
          '22023 at most 500 ids per call, got 501', 'at most 500 ids');
select is(pg_temp.refusal(:'me', $$select people.profile_cards(null)$$), '22023 ids is required', 'ids is required');

-- Artist cards: artists only, for anybody ---------------------------------------------------------------------
select people.grant_role(:'me', 'artist', 'pgtap') as _granted \gset
select pg_temp.act_as(null);
select results_eq(format('select artist_id, name, image_url, city, country, genres, verified from people.artist_cards(array[%L, %L]::uuid[])',
                         :'me', :'other'),
                  format($$values (%L::uuid, 'Ada'::text, 'https://img.example/a.jpg'::text, null::text, 'NG'::text,
                                   array['afrobeats', 'highlife'], true)$$, :'me'),
                  'anon reads an artist''s card (name, image, home, genres), and no card of a fan');
reset role;

-- Who reads what --------------------------------------------------------------------------------------------
select pg_temp.act_as(:'other');
select is((select display_name from people.profiles where user_id = :'me'), 'Ada', 'another user reads a profile row');
select is((select count(*) from people.profile_cards(array[:'me']::uuid[])), 1::bigint, 'and its card');
reset role;
select is(pg_temp.refusal(:'other', format($$update people.profiles set display_name = 'Hacked' where user_id = %L$$, :'me')),
          '42501 permission denied for table profiles', 'but writes no profile directly');
select is(pg_temp.refusal(:'me', format($$insert into people.profiles (user_id) values (%L)$$, :'other')),
          '42501 permission denied for table profiles', 'not even their own');
select is(pg_temp.refusal(null, 'select count(*) from people.profiles'), '42501 permission denied for table profiles',
          'anon reads no profile rows');
select is(pg_temp.refusal(null, $$select people.profile_cards('{}')$$),
          '42501 permission denied for function profile_cards', 'nor profile cards');
select is(pg_temp.refusal(null, 'select people.my_profile()'), '42501 permission denied for function my_profile',
          'anon has no profile');
select is(pg_temp.refusal(null, $$select people.update_profile('{}')$$),
          '42501 permission denied for function update_profile', 'nor changes one');
select pg_temp.act_as_service();
select is((select display_name from people.profiles where user_id = :'me'), 'Ada', 'service_role reads profiles');
select is((select count(*) from people.artist_cards(array[:'me']::uuid[])), 1::bigint, 'and cards');
select throws_ok($$select people.update_profile('{}')$$, '42501', 'permission denied for function update_profile',
                 'service_role has no profile of its own to change');
reset role;
select pg_temp.act_as(:'admin');
select is((select display_name from people.profiles where user_id = :'me'), 'Ada', 'an admin reads profiles as any user');
reset role;
select is(pg_temp.refusal(:'admin', format($$update people.profiles set display_name = 'x' where user_id = %L$$, :'me')),
          '42501 permission denied for table profiles', 'and changes none directly');
select is(pg_temp.refusal(:'me', 'select people_private.cards(null)'), '42501 permission denied for schema people_private',
          'the private helpers are out of reach');

select * from finish();
rollback;
