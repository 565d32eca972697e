-- Stores the ranking of every board's reference day, today's and tomorrow's (7 and 6 days ago for 7d
-- and alltime, 30 and 29 for 30d), in coliseum_private.history_ranks, so that coliseum_private.board_page
-- reads previous_rank with a key lookup; drops the stored ranks of every other day. pg_cron runs it every
-- 10 minutes (coliseum-rank-history-days): a day is ranked once, again only if its history was written
-- since (coliseum_private.note_history_change). Returns the number of board days it ranked.
--
-- A day's ranks are marked valid with the count of changes read before its history was read, and only
-- if that count still holds when marking (a concurrent writer holds the row until it commits, then the
-- count differs): a ranking that may have missed a write is never marked valid. One ranker at a time.
create or replace function coliseum_private.rank_history_days()
returns int
language plpgsql
security definer
set search_path = ''
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  board record;
  counted bigint;
  ranked int := 0;
begin
  perform pg_advisory_xact_lock(hashtext('coliseum_private.rank_history_days'));
  delete from coliseum_private.history_ranks as r
  where (r.domain, r.period, r.day) not in (select w.domain, w.period, w.day from coliseum_private.ranked_history_days(today) as w);
  delete from coliseum_private.history_days as d
  where (d.domain, d.period, d.day) not in (select w.domain, w.period, w.day from coliseum_private.ranked_history_days(today) as w);

  for board in select w.domain, w.period, w.day from coliseum_private.ranked_history_days(today) as w order by 1, 2, 3 loop
    insert into coliseum_private.history_days (domain, period, day) values (board.domain, board.period, board.day)
    on conflict do nothing;
    select d.changes into counted
    from coliseum_private.history_days as d
    where d.domain = board.domain and d.period = board.period and d.day = board.day
      and d.ranked_changes is distinct from d.changes;
    continue when not found;
    delete from coliseum_private.history_ranks as r
    where r.board = coliseum_private.board_number(board.domain, board.period) and r.day = board.day;
    insert into coliseum_private.history_ranks (domain, period, day, artist_id, rank, score)
    select h.domain, h.period, h.day, h.artist_id, row_number() over (order by h.score desc, h.artist_id), h.score
    from coliseum.strength_history as h
    where h.domain = board.domain and h.period = board.period and h.day = board.day;
    update coliseum_private.history_days as d set ranked_changes = counted, changed_by = null
    where d.domain = board.domain and d.period = board.period and d.day = board.day and d.changes = counted;
    ranked := ranked + 1;
  end loop;
  return ranked;
end
$$;

revoke all on function coliseum_private.rank_history_days() from public;

comment on function coliseum_private.rank_history_days() is
  'Ranks every board''s reference days of today and tomorrow into coliseum_private.history_ranks (pg_cron, every '
  '10 minutes); returns the number of board days ranked. docs/coliseum-boards.md, "Stored reference ranks".';
