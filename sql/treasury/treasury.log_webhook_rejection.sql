create or replace function treasury.log_webhook_rejection(code text, message text, detail jsonb default '{}')
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  stored bigint;
begin
  if code is null or code !~ '^[a-z][a-z_]{0,49}$' then
    raise exception using errcode = '22023',
      message = format('code must be 1 to 50 lower-case letters or _, got %s', coalesce(code, 'null'));
  end if;
  if message is null then
    raise exception using errcode = '22023', message = 'message is required';
  end if;
  if detail is not null and jsonb_typeof(detail) <> 'object' then
    raise exception using errcode = '22023', message = 'detail must be a JSON object';
  end if;
  insert into treasury.webhook_rejections as r (code, message, detail)
  values (code, left(message, 1000),
          case when octet_length(coalesce(detail, '{}')::text) > 8192
            then jsonb_build_object('truncated', true, 'bytes', octet_length(detail::text))
            else coalesce(detail, '{}') end)
  returning r.id into stored;
  return stored;
end
$$;

comment on function treasury.log_webhook_rejection(text, text, jsonb) is
  'Records a request the webhook refused: a stable code, a message (cut to 1000 characters) and a detail object '
  '(replaced by {"truncated": true} above 8 KB). Returns the row id.';

grant execute on function treasury.log_webhook_rejection(text, text, jsonb) to service_role;
