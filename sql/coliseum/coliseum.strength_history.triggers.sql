-- The stored ranks of past days (coliseum_private.history_ranks) stay true: every write of a day that
-- has ended is counted (coliseum_private.note_history_change). Today's rows, which every refresh
-- upserts, fire nothing.
create or replace trigger strength_history_past_insert
  after insert on coliseum.strength_history
  for each row when (new.day < (now() at time zone 'UTC')::date)
  execute function coliseum_private.note_history_change();

create or replace trigger strength_history_past_update
  after update on coliseum.strength_history
  for each row when (old.day < (now() at time zone 'UTC')::date or new.day < (now() at time zone 'UTC')::date)
  execute function coliseum_private.note_history_change();

create or replace trigger strength_history_past_delete
  after delete on coliseum.strength_history
  for each row when (old.day < (now() at time zone 'UTC')::date)
  execute function coliseum_private.note_history_change();

create or replace trigger strength_history_truncate
  after truncate on coliseum.strength_history
  for each statement execute function coliseum_private.note_history_change();
