create or replace view public.coliseum_leaderboard_a_alltime with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('A', 'alltime') as b;

revoke all on public.coliseum_leaderboard_a_alltime from anon, authenticated, service_role;

grant select on public.coliseum_leaderboard_a_alltime to anon, authenticated, service_role;
