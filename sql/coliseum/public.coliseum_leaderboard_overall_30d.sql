create or replace view public.coliseum_leaderboard_overall_30d with (security_invoker, security_barrier) as
  select b.rank, b.artist_id, b.score, b.change, b.previous_rank from coliseum.board('overall', '30d') as b;

revoke all on public.coliseum_leaderboard_overall_30d from anon, authenticated, service_role;

grant select on public.coliseum_leaderboard_overall_30d to anon, authenticated, service_role;
