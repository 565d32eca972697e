alter table coliseum.artist_holds enable row level security;

revoke all on coliseum.artist_holds from anon, authenticated, service_role;

-- Holds change only through coliseum.hold_artist and coliseum.release_artist,
-- which log them to Passport. Admins read every hold with its evidence; the
-- artist reads their hold's reason in their profile and their Passport
-- timeline, not the evidence (it names other users' activity).
grant select on coliseum.artist_holds to authenticated, service_role;

drop policy if exists artist_holds_admin_reads on coliseum.artist_holds;
create policy artist_holds_admin_reads on coliseum.artist_holds
  for select to authenticated using ((select treasury.is_admin()));
