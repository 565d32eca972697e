alter table people.profiles enable row level security;

-- Every field of a profile is public to signed-in users (people.profile_cards adds the app's own data);
-- anon sees artists only, through people.artist_cards. Changes go through people.update_profile.
grant select on people.profiles to authenticated, service_role;

drop policy if exists profiles_signed_in_reads on people.profiles;
create policy profiles_signed_in_reads on people.profiles
  for select to authenticated using (true);
