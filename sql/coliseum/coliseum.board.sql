-- The 15 views the app reads, public.coliseum_leaderboard_<a|t|g|c|overall>_<7d|30d|alltime>,
-- are each this function for one board, so a view holds no logic and no
-- privilege: security_invoker, because it reads no relation, only calls a
-- function that applies the caller's plan (a definer view would add nothing
-- and would hide the caller from anything added to it later);
-- security_barrier, so that no predicate of a query on the view can ever be
-- evaluated ahead of what the view returns. Supabase grants ALL on new
-- relations in public; the views are read-only, and say so.

-- Everything of one board that the caller's plan shows: its top `depth`
-- ranks, or no row when the plan does not include the board. Never raises
-- for the plan, so that the views can be read by generic tools; the RPC is
-- the path that explains.
create or replace function coliseum.board(domain text, range text)
returns table (rank int, artist_id uuid, score double precision, change double precision, previous_rank int)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  key record;
  caller_plan coliseum.plans;
begin
  key := coliseum_private.board_key(board.domain, board.range);
  select * into caller_plan from coliseum.plans as p where p.plan = coliseum.my_plan();
  if found and not key.board_domain = any (caller_plan.domains) then
    return;
  end if;
  return query select * from coliseum_private.board_page(key.board_domain, key.board_period, 0, caller_plan.depth);
end
$$;

comment on function coliseum.board(text, text) is
  'The part of a board the caller''s plan shows (top depth ranks; none for a board outside the plan). '
  'Behind the public.coliseum_leaderboard_* views.';

grant execute on function coliseum.board(text, text) to anon, authenticated, service_role;
