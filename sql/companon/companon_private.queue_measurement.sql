-- The trigger passport_entries_companon_measure (after insert of companon.campaign_viewed, _clicked and
-- _converted): queues the entry for companon_private.measure_pending. It touches no shared row, so the app's
-- passport-log batches never wait on each other here. A duplicate (same user and client_event_id) is never
-- inserted, so it is never queued.
create or replace function companon_private.queue_measurement()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  insert into companon_private.measure_queue (entry_id) values (new.id);
  return null;
end
$$;
