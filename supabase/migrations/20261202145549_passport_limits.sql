-- Passport limits (issue 12): rate limits on passport-log, bounded rejection records, a floor on
-- occurred_at.
--
-- One user sent 6,818 requests (34,000 events) in 20 seconds and nothing stopped them. The limits
-- live in the database, so that they hold across any number of function instances:
--
--   passport.limits                  the numbers, one row, operators change it with UPDATE
--   passport_private.user_buckets    per user, two token buckets: requests and events
--   passport_private.address_buckets per client address, one bucket for anonymous requests
--   passport.rejection_tallies       per user and minute, how many events were refused and under
--                                    which codes; passport.rejections keeps only the first few
--
-- Buckets are refilled lazily: a row holds the tokens left at refilled_at; the next request adds
-- what the rate gave since, up to the burst. A row whose bucket would be full again carries no
-- information, so passport_private.prune_limits deletes those, run by the existing pg_cron job
-- passport-prune-rejections every 10 minutes (through prune_rejections), which keeps address_buckets
-- bounded by the addresses seen in the last few minutes even when they are made up.
--
-- Code: sql/passport/ (passport.limits.policies.sql, passport.rejection_tallies.policies.sql,
-- passport_private.admit_user.sql, passport.admit_anonymous.sql, passport_private.record_rejections.sql,
-- passport_private.prune_limits.sql), carried by
-- 20261202145550_passport_limits_code.sql   after it
-- and the generated sources migration that follows it (passport.ingest, passport.check_event and
-- passport_private.prune_rejections changed).

create table passport.limits (
  id boolean primary key default true check (id),
  user_requests_burst integer not null default 60 check (user_requests_burst >= 1),
  user_requests_per_minute integer not null default 30 check (user_requests_per_minute >= 1),
  -- At least one full batch (500 events), or a batch that size could never pass.
  user_events_burst integer not null default 3000 check (user_events_burst >= 500),
  user_events_per_minute integer not null default 60 check (user_events_per_minute >= 1),
  address_requests_burst integer not null default 60 check (address_requests_burst >= 1),
  address_requests_per_minute integer not null default 60 check (address_requests_per_minute >= 1),
  rejections_kept_per_minute integer not null default 20 check (rejections_kept_per_minute >= 0),
  platform_start timestamptz not null default '2024-01-01 00:00:00+00',
  app_backdate_days integer not null default 30 check (app_backdate_days >= 1)
);

insert into passport.limits default values;

comment on table passport.limits is
  'The limits of passport-log and passport.ingest, one row; operators change it with UPDATE (as the service role '
  'or postgres). Rate limits are token buckets per user (requests and events) and per client address (anonymous '
  'requests): <x>_burst tokens at most, refilled at <x>_per_minute. The service role is not limited. '
  'See docs/passport-api.md#limits.';
comment on column passport.limits.user_requests_burst is 'Requests a signed-in user may send at once.';
comment on column passport.limits.user_requests_per_minute is 'Requests a signed-in user may send per minute, sustained.';
comment on column passport.limits.user_events_burst is 'Events (batch elements) a signed-in user may send at once; at least 500, one full batch.';
comment on column passport.limits.user_events_per_minute is 'Events a signed-in user may send per minute, sustained.';
comment on column passport.limits.address_requests_burst is 'Anonymous requests (no token, the anon or a publishable key) one client address may send at once.';
comment on column passport.limits.address_requests_per_minute is 'Anonymous requests one client address may send per minute, sustained.';
comment on column passport.limits.rejections_kept_per_minute is
  'Refused events of one user recorded as rows of passport.rejections per minute; the rest are only counted in passport.rejection_tallies.';
comment on column passport.limits.platform_start is 'Events that occurred before this are refused (occurred_before_platform), from every caller.';
comment on column passport.limits.app_backdate_days is
  'Events of callers other than the service role that occurred more than this many days before they were sent '
  '(sent_at, else arrival) are refused (occurred_too_long_ago).';

create table passport_private.user_buckets (
  user_id uuid primary key,
  requests double precision not null,
  events double precision not null,
  refilled_at timestamptz not null
);

comment on table passport_private.user_buckets is
  'Per signed-in user, the request and event tokens left at refilled_at (passport_private.admit_user).';

create table passport_private.address_buckets (
  address text primary key check (char_length(address) between 1 and 45),
  requests double precision not null,
  refilled_at timestamptz not null
);

comment on table passport_private.address_buckets is
  'Per client address (as the platform''s proxy reported it, ''unknown'' without one), the anonymous request '
  'tokens left at refilled_at (passport.admit_anonymous).';

create table passport.rejection_tallies (
  user_id uuid not null,
  minute timestamptz not null check (minute = date_trunc('minute', minute)),
  rejected bigint not null check (rejected >= 1),
  kept integer not null check (kept between 0 and rejected),
  codes jsonb not null check (jsonb_typeof(codes) = 'object'),
  primary key (user_id, minute)
);

create index rejection_tallies_minute_idx on passport.rejection_tallies (minute);

comment on table passport.rejection_tallies is
  'Per user and minute, the events passport.ingest refused: rejected (all of them), kept (how many have a row in '
  'passport.rejections, at most limits.rejections_kept_per_minute) and codes ({code: count} over all of them). '
  'Refusals without a valid user (possible only from the service role) count under the nil UUID. Kept as long '
  'as passport.rejections (30 days).';


comment on table passport.rejections is
  'Events passport.ingest refused, with the reason: the first limits.rejections_kept_per_minute of a user in a '
  'minute (all of them are counted in passport.rejection_tallies). Kept 30 days and at most 1,000,000 rows '
  '(pg_cron job passport-prune-rejections). Text columns are cut to bounded lengths.';
