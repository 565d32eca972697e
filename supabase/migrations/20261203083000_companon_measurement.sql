-- Companon, measurement (issue 13, item 5, and the results reads of item 6): impressions, clicks and
-- conversions arrive as Passport events (companon.campaign_viewed, _clicked from the app,
-- companon.campaign_converted from the platform); each is counted once, per campaign and UTC day, and each
-- conversion is attributed by last touch (docs/companon.md#measurement).
--
--   companon_private.measure_queue   the Passport entries of those kinds not counted yet (a trigger on
--                                    public.passport_entries adds them as they are stored)
--   companon.campaign_days           per campaign and UTC day: impressions, reach, clicks, conversions
--   companon.campaign_day_values     per campaign, UTC day and currency: the conversions' value
--   companon_private.campaign_reach  who a campaign reached each day (reach over any range is exact)
--   companon_private.conversions     every conversion and where it was counted: the touch it was attributed
--                                    to, or unattributed
--
--   companon_private.measure_pending   the pg_cron job companon-measure: counts the queue, oldest first
--   companon.campaign_results          a campaign's numbers per day and in total
--   companon.campaign_lift             the DNA of a campaign's sponsored artists against their own trend
--   companon.admin_overview            campaigns and their numbers per brand, for admins
--
-- Why a queue and a job, not a trigger that counts: every impression of a campaign would otherwise update
-- the same row of campaign_days inside the app's passport-log transaction, and concurrent batches would
-- wait on each other for it; the trigger only inserts the entry's id (no shared row), and the job folds a
-- whole batch into one upsert per campaign and day. A cursor over passport_entries.id would miss entries
-- whose transaction commits after a later id was read; the queue cannot.
--
-- This step holds tables, indexes and the cron job. Its functions, triggers, policies and grants live in
-- sql/companon/ and sql/passport/, one file per object (docs/database-sources.md), and the generated steps
-- install them, as sql/manifest.txt lists:
-- 20261203083010_companon_measurement_code.sql   after it
-- 20261203083100_sources.sql                     the trigger on public.passport_entries

create table companon_private.measure_queue (
  entry_id bigint primary key
);

comment on table companon_private.measure_queue is
  'Passport entries of kind companon.campaign_viewed, _clicked and _converted not counted yet: the trigger '
  'passport_entries_companon_measure adds each as it is stored, companon_private.measure_pending (the pg_cron job '
  'companon-measure) counts and deletes them in one transaction, so each entry counts exactly once.';

create table companon.campaign_days (
  campaign_id uuid not null,
  brand_id uuid not null,
  day date not null,
  impressions bigint not null default 0 check (impressions >= 0),
  reach bigint not null default 0 check (reach >= 0),
  clicks bigint not null default 0 check (clicks >= 0),
  conversions bigint not null default 0 check (conversions >= 0),
  click_conversions bigint not null default 0 check (click_conversions >= 0),
  view_conversions bigint not null default 0 check (view_conversions >= 0),
  unattributed_conversions bigint not null default 0 check (unattributed_conversions >= 0),
  impressions_outside_run bigint not null default 0 check (impressions_outside_run >= 0),
  clicks_outside_run bigint not null default 0 check (clicks_outside_run >= 0),
  updated_at timestamptz not null default now(),
  primary key (campaign_id, day),
  constraint campaign_days_campaign_brand_fkey foreign key (campaign_id, brand_id)
    references companon.campaigns (id, brand_id),
  constraint campaign_days_conversions_split_check check (conversions = click_conversions + view_conversions)
);

comment on table companon.campaign_days is
  'Per campaign and UTC day (of occurred_at): impressions and clicks that happened while the campaign ran (active '
  'and inside its schedule), reach (distinct users with such a view or click that day), conversions attributed to '
  'it (click_conversions by a click within 7 days, view_conversions by a view within 1 day), unattributed '
  'conversions (they named it, no touch of its brand qualified), and the views and clicks that came while it did '
  'not run (counted nowhere else). Written only by companon_private.measure_pending; read by the brand''s members '
  'and admins.';

-- The admins' overview: every brand's days of a range.
create index campaign_days_day_idx on companon.campaign_days (day, brand_id);

create table companon.campaign_day_values (
  campaign_id uuid not null,
  brand_id uuid not null,
  day date not null,
  currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
  attributed_minor bigint not null default 0 check (attributed_minor >= 0),
  unattributed_minor bigint not null default 0 check (unattributed_minor >= 0),
  primary key (campaign_id, day, currency),
  constraint campaign_day_values_campaign_brand_fkey foreign key (campaign_id, brand_id)
    references companon.campaigns (id, brand_id)
);

comment on table companon.campaign_day_values is
  'Per campaign, UTC day and currency: the value of its conversions (amount_minor of the events that carry an '
  'amount and a currency), attributed and unattributed, in minor units of the currency; no conversion between '
  'currencies. Written only by companon_private.measure_pending; read by the brand''s members and admins.';

create index campaign_day_values_day_idx on companon.campaign_day_values (day, brand_id);

create table companon_private.campaign_reach (
  campaign_id uuid not null references companon.campaigns (id),
  day date not null,
  user_id uuid not null,
  primary key (campaign_id, day, user_id)
);

comment on table companon_private.campaign_reach is
  'Who a campaign reached each UTC day (a counted view or click): the daily reach of campaign_days, and the exact '
  'reach of any range (distinct users, not a sum of days). Private: nobody but the owner reads user ids.';

create table companon_private.conversions (
  entry_id bigint primary key,
  named_campaign_id uuid not null references companon.campaigns (id),
  campaign_id uuid not null references companon.campaigns (id),
  brand_id uuid not null references companon.brands (id),
  user_id uuid not null,
  day date not null,
  touch text constraint conversions_touch_kind_check check (touch in ('click', 'view')),
  touch_entry_id bigint,
  amount_minor bigint check (amount_minor >= 0),
  currency char(3) check (currency ~ '^[A-Z]{3}$'),
  counted_at timestamptz not null default now(),
  constraint conversions_touch_entry_check check ((touch is null) = (touch_entry_id is null)),
  constraint conversions_unattributed_check check (touch is not null or campaign_id = named_campaign_id),
  constraint conversions_value_check check ((amount_minor is null) = (currency is null))
);

comment on table companon_private.conversions is
  'Every conversion counted: the campaign it named, the campaign it was counted for (the campaign of the touch it '
  'was attributed to, or the named one when unattributed: touch null), the Passport entry of that touch, and its '
  'value. The audit trail of attribution; private (user ids).';

create index conversions_campaign_idx on companon_private.conversions (campaign_id, day);

------------------------------------------------------------------------------
-- The job
------------------------------------------------------------------------------

select cron.schedule('companon-measure', '* * * * *', 'select companon_private.measure_pending()');
