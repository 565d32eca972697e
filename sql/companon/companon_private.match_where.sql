-- Which rows `v` of companon_private.artist_vectors pass the filters of a canonical campaign target
-- (companon_private.match_filters), as a SQL condition. Held artists are left out apart
-- (companon.match_artists, explain_match): holds are few, so the best k unheld artists are among the best
-- k + holds, and the scan skips a join per row.
create or replace function companon_private.match_where(target jsonb)
returns text
language sql
stable
as $$
  select coalesce((select string_agg(f.predicate, ' and ') from companon_private.match_filters(target) as f), 'true')
$$;
