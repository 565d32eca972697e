-- Records the Checkout Session Stripe created for a checkout of the
-- signed-in user: its id, url and expires_at (the seats it holds expire
-- with it). Idempotent: the same session again changes nothing.
create or replace function treasury.checkout_opened(checkout_id uuid, session jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  co treasury.checkouts := treasury_private.my_checkout(checkout_id);
  sess text := treasury_private.stripe_id(session -> 'id');
  url text := session ->> 'url';
  ends bigint := treasury_private.json_bigint(session -> 'expires_at');
begin
  if sess is null or sess !~ '^cs_[A-Za-z0-9_]{1,250}$' or url is null or url !~ '^https?://'
     or ends is null or ends not between 0 and 253402300799 then
    raise exception using errcode = '22023', detail = 'invalid_session',
      message = 'session must be a Checkout Session: {"id": "cs_...", "url": "https://...", "expires_at": <unix seconds>}';
  end if;
  if co.session_id is not null and co.session_id <> sess then
    raise exception using errcode = '55000', detail = 'session_mismatch',
      message = format('checkout %s has session %s already, not %s', co.id, co.session_id, sess);
  end if;
  if co.session_id is null then
    -- Never later than the expiry begin_checkout chose and asked Stripe for: the
    -- caller could name any time, and the seats are held until then.
    update treasury.checkouts as c
    set session_id = sess, session_url = url, expires_at = least(to_timestamp(ends), c.expires_at),
        status = case when c.status = 'creating' then 'open' else c.status end, updated_at = now()
    where c.id = co.id
    returning * into co;
    update concierto.orders as o set expires_at = co.expires_at
    where o.id = co.order_id and o.state = 'reserved' and co.status = 'open';
  end if;
  return treasury_private.checkout_answer(co);
end
$$;

comment on function treasury.checkout_opened(uuid, jsonb) is
  'Signed-in buyer: records the Stripe Checkout Session ({"id", "url", "expires_at"}) of their checkout, which is '
  'then open, until the session''s expires_at or the one begin_checkout chose, whichever is sooner (the seats are '
  'held as long); returns the checkout as begin_checkout does. 22023 invalid_session, P0002 unknown_checkout, 55000 '
  'session_mismatch.';

grant execute on function treasury.checkout_opened(uuid, jsonb) to authenticated;
