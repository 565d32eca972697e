-- Companon's matching vectors follow every refresh of an artist's scores (companon_private.vectors_after_refresh).
-- A trigger with a transition table takes one event: one for the first refresh (insert), one for the next ones.
create or replace trigger artist_refreshes_vectors_insert
  after insert on coliseum_private.artist_refreshes
  referencing new table as refreshed
  for each statement execute function companon_private.vectors_after_refresh();

create or replace trigger artist_refreshes_vectors_update
  after update on coliseum_private.artist_refreshes
  referencing new table as refreshed
  for each statement execute function companon_private.vectors_after_refresh();
