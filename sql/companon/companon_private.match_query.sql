-- The statement that scores every artist a canonical campaign target matches (companon.match_artists
-- falls back to it, companon.explain_match counts with it): artist_id and similarity of every row of
-- companon_private.artist_vectors that passes the target's filters, held artists included: the caller
-- orders, limits or counts, and leaves out the artists with an open coliseum.artist_holds row among the
-- rows it keeps (companon_private.match_where says why).
create or replace function companon_private.match_query(target jsonb)
returns text
language sql
stable
as $$
  select format('select v.artist_id, %s as similarity from companon_private.artist_vectors as v where %s',
                companon_private.similarity_sql(coliseum.target_vector(target -> 'domains', target -> 'components')),
                companon_private.match_where(target))
$$;
