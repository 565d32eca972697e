-- A statement that lists the filters of a canonical campaign target an artist ($1) fails, in the order of
-- companon_private.match_filters, as text[] (companon.explain_match). It reads the artist's row of
-- companon_private.artist_vectors, or for an artist without one a row of nothing: zero scores and fans,
-- no genre, no places. A predicate that is null (no main genre) fails.
create or replace function companon_private.reasons_sql(target jsonb)
returns text
language sql
stable
as $$
  select format(
    'select array_remove(array[%s]::text[], null)
     from (select * from companon_private.artist_vectors as a where a.artist_id = $1
           union all
           select $1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                  0, 0, 0, 0, 0, 0, now(), null, ''{}'', ''{}'', array_fill(0::double precision, array[26])
           limit 1) as v',
    coalesce(string_agg(format('case when (%s) is not true then %L end', f.predicate, f.reason), ', '), 'null'))
  from companon_private.match_filters(target) as f
$$;
