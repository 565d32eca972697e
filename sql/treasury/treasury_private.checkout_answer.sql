-- What treasury.begin_checkout and the session calls return for a checkout.
create or replace function treasury_private.checkout_answer(co treasury.checkouts)
returns jsonb
language sql
stable
as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'checkout_id', co.id,
    'status', co.status,
    'kind', co.kind,
    'mode', co.mode,
    'amount_minor', co.amount_minor,
    'currency', co.currency,
    'expires_at', floor(extract(epoch from co.expires_at))::bigint,
    'idempotency_key', 'buckets_checkout_' || co.id::text,
    'session_params', case when co.status = 'creating' then co.session_params end,
    'session', case when co.session_id is not null then jsonb_build_object(
      'id', co.session_id, 'url', co.session_url, 'expires_at', floor(extract(epoch from co.expires_at))::bigint) end,
    'failure_code', co.failure_code))
$$;
