create or replace function treasury.outbox_sent(id uuid, provider_id text, at timestamptz default now())
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  m treasury.outbox;
begin
  if id is null or at is null or provider_id is null or char_length(provider_id) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'id, at and provider_id (1 to 200 characters) are required';
  end if;
  select * into m from treasury.outbox as x where x.id = outbox_sent.id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('outbox message %s not found', id);
  end if;
  if m.status in ('pending', 'sending', 'failed') then
    -- Delivered, whatever a run that lost its lease reported meanwhile.
    update treasury.outbox as x
    set status = 'sent', provider_id = outbox_sent.provider_id, sent_at = outbox_sent.at, leased_until = null, last_error = null
    where x.id = m.id
    returning * into m;
  end if;
  return jsonb_build_object('id', m.id, 'status', m.status, 'provider_id', m.provider_id, 'attempts', m.attempts);
end
$$;

comment on function treasury.outbox_sent(uuid, text, timestamptz) is
  'The receipts sender reports a message delivered to the provider (service_role): status sent with the provider''s '
  'id. A repeat, or a report for a message already sent, changes nothing. Returns {"id", "status", "provider_id", '
  '"attempts"}. 22023 bad argument, P0002 unknown message.';

grant execute on function treasury.outbox_sent(uuid, text, timestamptz) to service_role;
