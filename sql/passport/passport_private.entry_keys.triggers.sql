create or replace trigger entry_keys_append_only
  before update or delete or truncate on passport_private.entry_keys
  for each statement execute function passport_private.guard_entry_keys();

alter table passport_private.entry_keys enable always trigger entry_keys_append_only;
