create or replace view public.coliseum_leaderboard_t_alltime with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('T', 'alltime') as b;

revoke all on public.coliseum_leaderboard_t_alltime from anon, authenticated, service_role;

grant select on public.coliseum_leaderboard_t_alltime to anon, authenticated, service_role;
