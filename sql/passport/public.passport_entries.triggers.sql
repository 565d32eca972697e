-- Exactly once (passport_private.keep_entry_key): every stored row first
-- records its key; a duplicate key skips the row.
create or replace trigger passport_entries_exactly_once
  before insert on public.passport_entries
  for each row execute function passport_private.keep_entry_key();

-- Only an UPDATE that names another column runs the check: the processor's
-- marks (SET coliseum_processed_at only) cost no trigger call. The column
-- list is every column but coliseum_processed_at (a pgTAP test keeps it so).
create or replace trigger passport_entries_append_only_update
  before update of id, user_id, kind, artist_id, payload, occurred_at, received_at, client_event_id, source
  on public.passport_entries
  for each row execute function passport_private.guard_passport_entries();

create or replace trigger passport_entries_append_only_delete
  before delete or truncate on public.passport_entries
  for each statement execute function passport_private.guard_passport_entries();

-- Statement triggers stay on the partitioned table: a DELETE or TRUNCATE
-- aimed at one month's partition does not fire them. Row triggers are cloned
-- onto every partition, so this one refuses a DELETE of a month's rows; each
-- partition's own TRUNCATE guard comes from passport_private.secure_partitions.
create or replace trigger passport_entries_append_only_delete_rows
  before delete on public.passport_entries
  for each row execute function passport_private.guard_passport_entries();

alter table public.passport_entries enable always trigger passport_entries_append_only_update;

alter table public.passport_entries enable always trigger passport_entries_append_only_delete;

alter table public.passport_entries enable always trigger passport_entries_append_only_delete_rows;

-- Companon's measurement (docs/companon.md#measurement): campaign views, clicks and conversions are queued as
-- they are stored and counted by the companon-measure job. The WHEN clause keeps every other kind free of a
-- trigger call.
create or replace trigger passport_entries_companon_measure
  after insert on public.passport_entries
  for each row
  when (new.kind in ('companon.campaign_viewed', 'companon.campaign_clicked', 'companon.campaign_converted'))
  execute function companon_private.queue_measurement();
