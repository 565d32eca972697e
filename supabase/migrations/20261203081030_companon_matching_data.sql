-- Companon matching, data (after 20261203081020_companon_matching_code.sql, which brings the function and
-- the trigger): the matching vectors of the artists Coliseum scored before matching existed. From now on
-- each refresh keeps them (docs/companon.md#matching).
select companon_private.refresh_vectors(array(select r.artist_id from coliseum_private.artist_refreshes as r));
