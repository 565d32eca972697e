-- Queues one message of the outbox in the caller's transaction: once per
-- dedupe_key (a replayed event queues nothing), to the recipient's email as
-- auth.users has it now; a recipient without one is recorded skipped.
create or replace function treasury_private.queue_message(kind text, dedupe_key text, recipient uuid, data jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  address text;
begin
  if recipient is null then
    return;
  end if;
  select nullif(btrim(u.email), '') into address from auth.users as u where u.id = recipient;
  insert into treasury.outbox (kind, dedupe_key, recipient_id, email, data, status, last_error)
  values (kind, dedupe_key, recipient, left(address, 320), jsonb_strip_nulls(data),
          case when address is null then 'skipped' else 'pending' end,
          case when address is null then 'the recipient has no email address' end)
  on conflict on constraint outbox_dedupe_key_key do nothing;
end
$$;

comment on function treasury_private.queue_message(text, text, uuid, jsonb) is
  'Writes one outbox row (treasury.outbox) in the caller''s transaction, once per dedupe_key; skipped when the '
  'recipient has no email address.';
