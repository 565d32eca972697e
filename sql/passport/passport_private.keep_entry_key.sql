-- Exactly once across partitions. A unique index of a partitioned table must
-- hold the partition key (received_at), and a retry of an event is received
-- later, so the key (user_id, client_event_id) lives in its own unpartitioned
-- table, passport_private.entry_keys, whose primary key is checked by every
-- insert into the log before the row is stored. A key already there skips the
-- row, as ON CONFLICT DO NOTHING did: the INSERT stores and returns nothing
-- for it. Concurrent inserts of one key wait on the first one's speculative
-- insertion, so the second is skipped once the first commits.
create or replace function passport_private.keep_entry_key()
returns trigger
language plpgsql
as $$
begin
  insert into passport_private.entry_keys (user_id, client_event_id, entry_id, received_at)
  values (new.user_id, new.client_event_id, new.id, new.received_at)
  on conflict on constraint entry_keys_pkey do nothing;
  if found then
    return new;
  end if;
  return null;
end
$$;
