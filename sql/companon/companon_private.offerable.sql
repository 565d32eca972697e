-- Whether an offer can be made to an artist now: no open hold (coliseum.artist_holds) and an account
-- (an auth.users row; make_offer refuses an artist without one). The matcher's filter and
-- explain_match's rank use it, so both leave out the same artists. (Its EXISTS lookups keep the planner
-- from inlining it: one call per candidate, by its two indexes.)
create or replace function companon_private.offerable(artist uuid)
returns boolean
language sql
stable
as $$
  select not exists (select 1 from coliseum.artist_holds as h where h.artist_id = artist and h.released_at is null)
     and exists (select 1 from auth.users as u where u.id = artist)
$$;
