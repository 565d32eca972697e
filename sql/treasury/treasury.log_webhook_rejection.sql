create or replace function treasury.log_webhook_rejection(
  code text,
  message text,
  detail jsonb default '{}',
  source text default null,
  signed boolean default false
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  -- Unsigned requests of one code from more sources than this share the row of the source 'other': a
  -- client can name any address in x-forwarded-for, and must not get a row per request by doing so.
  max_sources constant int := 1000;
  max_samples constant int := 5;
  kept jsonb := coalesce(detail, '{}');
  origin text := coalesce(lower(source), 'unknown');
  body text;
  stored bigint;
begin
  if code is null or code !~ '^[a-z][a-z_]{0,49}$' then
    raise exception using errcode = '22023',
      message = format('code must be 1 to 50 lower-case letters or _, got %s', coalesce(code, 'null'));
  end if;
  if message is null then
    raise exception using errcode = '22023', message = 'message is required';
  end if;
  if jsonb_typeof(kept) <> 'object' then
    raise exception using errcode = '22023', message = 'detail must be a JSON object';
  end if;
  if origin !~ '^[0-9a-f.:]{2,45}$' and origin <> 'unknown' then
    raise exception using errcode = '22023',
      message = format('source must be an IP address (up to 45 characters of 0-9 a-f . :), got %s', source);
  end if;
  if signed is null then
    raise exception using errcode = '22023', message = 'signed is required';
  end if;
  if octet_length(kept::text) > 8192 then
    kept := jsonb_build_object('truncated', true, 'bytes', octet_length(kept::text));
  end if;

  if signed then
    body := detail ->> 'body_sha256';
    if body is null or body !~ '^[0-9a-f]{64}$' then
      raise exception using errcode = '22023',
        message = 'a signed rejection needs detail.body_sha256, the body''s SHA-256 in 64 lower-case hex digits';
    end if;
  elsif not exists (select from treasury.webhook_rejections as r
                    where not r.signed and r.code = log_webhook_rejection.code and r.source = origin)
    and (select count(*) from treasury.webhook_rejections as r
         where not r.signed and r.code = log_webhook_rejection.code) >= max_sources then
    origin := 'other';
  end if;

  -- The conflict target names the partial unique index of the row's kind; only that one can match.
  -- now() is when this transaction began: one that began before the row's first sighting may update
  -- it after, so the times only ever widen the row's span (first_seen <= last_seen holds).
  if signed then
    insert into treasury.webhook_rejections as r (code, signed, source, body_sha256, message, detail)
    values (code, true, origin, body, left(message, 1000), kept)
    on conflict (code, body_sha256) where signed do update
      set hits = r.hits + 1, first_seen = least(r.first_seen, now()), last_seen = greatest(r.last_seen, now()),
          source = excluded.source, message = excluded.message,
          detail = excluded.detail, samples = treasury_private.add_sample(r.samples, r.last_seen, r.source, r.detail, max_samples)
    returning r.id into stored;
  else
    insert into treasury.webhook_rejections as r (code, signed, source, message, detail)
    values (code, false, origin, left(message, 1000), kept)
    on conflict (code, source) where not signed do update
      set hits = r.hits + 1, first_seen = least(r.first_seen, now()), last_seen = greatest(r.last_seen, now()),
          message = excluded.message, detail = excluded.detail,
          samples = treasury_private.add_sample(r.samples, r.last_seen, r.source, r.detail, max_samples)
    returning r.id into stored;
  end if;
  return stored;
end
$$;

comment on function treasury.log_webhook_rejection(text, text, jsonb, text, boolean) is
  'Records a request the webhook refused: a stable code, a message (cut to 1000 characters), a detail object '
  '(replaced by {"truncated": true} above 8 KB), the client address (source; null: unknown) and whether the request '
  'was signed. Repeats aggregate: unsigned per code and source (at most 1,000 sources per code, then ''other''), '
  'signed per code and detail.body_sha256 (required). Returns the row id.';

grant execute on function treasury.log_webhook_rejection(text, text, jsonb, text, boolean) to service_role;
