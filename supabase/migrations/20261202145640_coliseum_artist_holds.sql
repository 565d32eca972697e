-- Admin holds of artists, and Treasury's payout hold of what they earned from held activity (issue 12).
--
-- An admin (treasury.admins) or the service role holds an artist whose activity looks bought:
-- coliseum.hold_artist(artist_id, reason, evidence, activity_since) writes a row here and logs the
-- Passport event coliseum.artist_held in the same transaction; coliseum.release_artist(artist_id,
-- reason) closes the row and logs coliseum.artist_released. A row is never deleted: the holds of an
-- artist are their history, and each names its Passport entries. At most one hold of an artist is
-- open at a time.
--
-- While a hold is open the artist is on no board (the boards skip them when they are read, so
-- nothing is rebuilt either way), and Treasury holds the part of their payouts that would come from
-- their earnings of the held activity: their split lines of payments to them made since the hold's
-- activity_since (all of them when it is null). Such a payout is held with the reason artist_held and
-- a trace (hold_trace) naming the hold's Passport entry and the Passport entries of the payments that
-- fund the held amount. Its money waits in payouts_held, as for the other hold reasons; releasing the
-- artist releases it.
--
-- Code in sql/coliseum/ and sql/treasury/, carried by:
-- 20261202145641_coliseum_artist_holds_code.sql   after it (the new functions)
-- and the generated sources migration that follows it (the changed boards and payout functions).
-- treasury_private.payout_checks gains the payout's amount: its old form goes here.

create table coliseum.artist_holds (
  id uuid primary key default gen_random_uuid(),
  artist_id uuid not null,
  reason text not null check (char_length(btrim(reason)) between 1 and 500),
  evidence jsonb not null default '{}' check (jsonb_typeof(evidence) = 'object'),
  activity_since timestamptz,
  held_at timestamptz not null default now(),
  held_by uuid,
  held_entry_id bigint not null,
  released_at timestamptz,
  released_by uuid,
  release_reason text check (char_length(btrim(release_reason)) between 1 and 500),
  released_entry_id bigint,
  constraint artist_holds_release_check check (
    (released_at is null and release_reason is null and released_entry_id is null)
    or (released_at is not null and release_reason is not null and released_entry_id is not null)),
  constraint artist_holds_since_check check (activity_since is null or activity_since <= held_at)
);

comment on table coliseum.artist_holds is
  'Artists held off the boards by an admin, and released: reason, evidence, the window of the held activity '
  '(activity_since; null: all of it), who and when, and the Passport entries of the hold and the release '
  '(coliseum.artist_held / coliseum.artist_released). Open while released_at is null (one per artist). '
  'Written only by coliseum.hold_artist and coliseum.release_artist; never deleted.';
comment on column coliseum.artist_holds.evidence is
  'What the admin saw (for example the artist''s row of coliseum.integrity_report): read by admins only.';
-- The entries are public.passport_entries ids, without a foreign key: the log is append-only below
-- every role already, and a reference to it would make its TRUNCATE fail on the key instead of its guard.
comment on column coliseum.artist_holds.held_entry_id is 'The Passport entry coliseum.artist_held of this hold.';
comment on column coliseum.artist_holds.released_entry_id is 'The Passport entry coliseum.artist_released of its release.';
comment on column coliseum.artist_holds.activity_since is
  'Where the held activity starts: the artist''s earnings of payments made since then (until the release) wait. '
  'Null: all of them.';

create unique index artist_holds_open_key on coliseum.artist_holds (artist_id) where released_at is null;
create index artist_holds_artist_idx on coliseum.artist_holds (artist_id, held_at desc);

alter table treasury.payouts drop constraint payouts_hold_reasons_check;
alter table treasury.payouts add constraint payouts_hold_reasons_check
  check (hold_reasons <@ array['wallet_unverified', 'untraced_earnings', 'artist_held']::text[]);
alter table treasury.payouts add column hold_trace jsonb;

comment on column treasury.payouts.hold_reasons is
  'Why it was held (kept after a release): wallet_unverified, untraced_earnings, artist_held.';
comment on column treasury.payouts.hold_trace is
  'For artist_held: the hold (hold_id, hold_entry_id: its Passport entry), the artist''s earnings of the held '
  'activity (held_earnings_minor), the part of this payout they would fund (held_minor), and the payments that '
  'fund it, newest first (payments: payment_id, paid_at, share_minor, spent_entry_id, earned_entry_id: their '
  'Passport entries; at most 100, payments_total says how many).';

drop function treasury_private.payout_checks(uuid, text);
