create or replace function treasury.request_refund(payment_id text, amount_minor bigint, reason text, idempotency_key text)
returns treasury.refund_requests
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  request_id uuid;
  request treasury.refund_requests;
begin
  perform treasury_private.require_staff('treasury.request_refund');
  request_id := treasury_private.request_refund(request_refund.payment_id, request_refund.amount_minor,
                                                request_refund.reason, request_refund.idempotency_key);
  select * into request from treasury.refund_requests as r where r.id = request_id;
  return request;
end
$$;

comment on function treasury.request_refund(text, bigint, text, text) is
  'Treasury admins and service_role: asks Stripe, through the refund worker, to refund amount_minor of payment_id '
  '(e.g. a row of concierto.refunds_due or companon.sponsorship_refunds_due) for reason. Returns the request '
  '(treasury.refund_requests); the same idempotency_key returns the same request. 42501 not an admin; 22023 bad '
  'argument or key reused (detail idempotency_key_reused); P0002 unknown payment; 55000 more than is still '
  'refundable (detail over_refund).';

grant execute on function treasury.request_refund(text, bigint, text, text) to authenticated, service_role;
