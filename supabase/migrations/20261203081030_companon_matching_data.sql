-- Companon matching, data (after 20261203081020_companon_matching_code.sql, which brings the function and
-- the trigger): the matching vectors of the artists Coliseum scored before matching existed, 2,000 at a time
-- (the size of the rebuild's refreshes). From now on each refresh keeps them (docs/companon.md#matching).
do $$
declare
  batch uuid[];
begin
  for batch in
    select array_agg(r.artist_id order by r.artist_id)
    from (select r.artist_id, (row_number() over (order by r.artist_id) - 1) / 2000 as n
          from coliseum_private.artist_refreshes as r) as r
    group by r.n
  loop
    perform companon_private.refresh_vectors(batch);
  end loop;
end
$$;
