-- Webhook rejections, aggregated (issue 12).
--
-- Anyone who can reach the webhook's URL can make it refuse a request, and every refusal was a row:
-- a flood of unsigned junk filled treasury.webhook_rejections, and the prune job's row cap then
-- deleted the oldest rows first, the rare rejections of genuine, signed deliveries among them. A
-- row is now an aggregate:
--
--   unsigned (no valid Stripe signature): one row per code and source (the client address the
--     platform's proxy reported), with a count, first and last seen, the newest detail and a few
--     distinct earlier ones; at most 1,000 sources per code, later ones fold into the source 'other';
--   signed (a genuine delivery that could not be used: stale, not JSON, not an event, the other
--     Stripe mode): one row per code and body (SHA-256), so Stripe's retries of one delivery count
--     on its row and every distinct delivery keeps its own.
--
-- The prune job keeps the two apart: unsigned noise 30 days, signed evidence 90 days, each under its
-- own row cap (docs/treasury-webhook.md#refused-deliveries).
--
-- Existing rows become aggregates: the unsigned ones of a code, all from the source 'unknown' (the
-- edge did not pass one), merge into one row; the signed ones merge by body.
--
-- The function's new arguments (source, signed) and the prune's separate limits are new argument
-- lists: the old forms go here. Their code is in sql/treasury/ (treasury.log_webhook_rejection.sql,
-- treasury_private.prune_webhook_rejections.sql, treasury_private.add_sample.sql), carried by:
-- 20261202113452_treasury_webhook_rejection_aggregates_code.sql   after it
-- and the generated sources migration that follows it.

drop function treasury.log_webhook_rejection(text, text, jsonb);
drop function treasury_private.prune_webhook_rejections(interval, bigint);

alter table treasury.webhook_rejections rename column rejected_at to last_seen;
alter table treasury.webhook_rejections
  add column first_seen timestamptz,
  add column hits bigint not null default 1 check (hits >= 1),
  add column signed boolean,
  add column source text not null default 'unknown' check (char_length(source) between 1 and 45),
  add column body_sha256 text check (body_sha256 ~ '^[0-9a-f]{64}$'),
  add column samples jsonb not null default '[]' check (jsonb_typeof(samples) = 'array');

update treasury.webhook_rejections as r
set first_seen = r.last_seen,
    signed = r.code not in ('missing_signature', 'malformed_signature', 'signature_mismatch'),
    body_sha256 = case when r.code not in ('missing_signature', 'malformed_signature', 'signature_mismatch')
                        and r.detail ->> 'body_sha256' ~ '^[0-9a-f]{64}$'
                       then r.detail ->> 'body_sha256' end;

-- One row per aggregate: the newest row of each group stays, with the group's count, first time and
-- up to five of its earliest distinct details as samples.
with grouped as (
  select r.id,
         max(r.id) over g as keep,
         count(*) over g as hits,
         min(r.last_seen) over g as first_seen
  from treasury.webhook_rejections as r
  window g as (partition by r.code, r.signed, case when r.signed then coalesce(r.body_sha256, r.id::text) else r.source end)
),
samples as (
  select s.keep, jsonb_agg(jsonb_build_object('at', s.last_seen, 'source', s.source, 'detail', s.detail)
                           order by s.last_seen, s.id) as samples
  from (
    select distinct on (g.keep, r.detail) g.keep, r.id, r.last_seen, r.source, r.detail
    from grouped as g
    join treasury.webhook_rejections as r on r.id = g.id
    where g.id <> g.keep
    order by g.keep, r.detail, r.id
  ) as s
  group by s.keep
)
update treasury.webhook_rejections as r
set hits = g.hits,
    first_seen = g.first_seen,
    samples = coalesce((select jsonb_path_query_array(s.samples, '$[0 to 4]') from samples as s where s.keep = r.id), '[]')
from grouped as g
where g.id = r.id and g.keep = r.id;

delete from treasury.webhook_rejections as r
using (select x.id, max(x.id) over (partition by x.code, x.signed,
                                     case when x.signed then coalesce(x.body_sha256, x.id::text) else x.source end) as keep
       from treasury.webhook_rejections as x) as g
where g.id = r.id and g.keep <> r.id;

alter table treasury.webhook_rejections
  alter column first_seen set not null,
  alter column first_seen set default now(),
  alter column signed set not null,
  alter column signed set default false,
  add constraint webhook_rejections_seen_check check (first_seen <= last_seen),
  add constraint webhook_rejections_samples_count_check check (jsonb_array_length(samples) <= 5);

drop index treasury.webhook_rejections_rejected_at_idx;
create unique index webhook_rejections_unsigned_key on treasury.webhook_rejections (code, source) where not signed;
create unique index webhook_rejections_signed_key on treasury.webhook_rejections (code, body_sha256) where signed;
create index webhook_rejections_last_seen_idx on treasury.webhook_rejections (signed, last_seen);

comment on table treasury.webhook_rejections is
  'Requests the stripe-webhook function refused, aggregated: unsigned ones per code and source, signed (genuine but '
  'unusable) deliveries per code and body, each with hits, first_seen, last_seen, the newest message and detail and '
  'up to five distinct earlier details (samples). Unsigned rows are kept 30 days, signed 90 days, each kind under '
  'its own row cap (pg_cron job treasury-prune-webhook-rejections), so unsigned noise never pushes out evidence.';
comment on column treasury.webhook_rejections.signed is
  'Whether the request carried a valid Stripe signature (then only the body was unusable, or it was replayed late).';
comment on column treasury.webhook_rejections.source is
  'The client address the platform''s proxy reported (cf-connecting-ip, x-real-ip, else the first of '
  'x-forwarded-for), ''unknown'' without one, ''other'' for the unsigned requests of a code beyond its first 1,000 '
  'sources. Not proof of who sent it: a client can name itself in x-forwarded-for.';
comment on column treasury.webhook_rejections.body_sha256 is
  'For a signed row, the SHA-256 of the delivery''s body: the key of its row, and how to find it in Stripe''s '
  'dashboard. Null on unsigned rows.';
comment on column treasury.webhook_rejections.hits is 'How many refused requests this row stands for.';
comment on column treasury.webhook_rejections.samples is
  'Up to five distinct details of this row''s earlier requests, the first ones seen: [{"at", "source", "detail"}].';
