-- The statement trigger on coliseum_private.artist_refreshes (insert and update): every refresh of
-- Coliseum scores writes a row there for each artist it scored, so their matching vectors follow in
-- the same transaction. The rows that changed are in the transition table `refreshed`.
create or replace function companon_private.vectors_after_refresh()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform companon_private.refresh_vectors(array(select r.artist_id from refreshed as r));
  return null;
end
$$;
