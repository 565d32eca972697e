-- Drops rejections older than max_age, then all but the newest max_rows, and
-- the rejection tallies older than max_age; then the rate-limit buckets that
-- have refilled (passport_private.prune_limits), so that the one pg_cron job
-- passport-prune-rejections bounds every table passport-log's refusals fill.
-- Returns how many rejections went.
create or replace function passport_private.prune_rejections(
  max_age interval default interval '30 days',
  max_rows bigint default 1000000
)
returns bigint
language plpgsql
as $$
declare
  too_old bigint;
  too_many bigint;
begin
  delete from passport.rejections as r
  where r.rejected_at < now() - max_age;
  get diagnostics too_old = row_count;

  delete from passport.rejections as r
  where r.id <= (select k.id from passport.rejections as k order by k.id desc offset max_rows limit 1);
  get diagnostics too_many = row_count;

  delete from passport.rejection_tallies as t
  where t.minute < now() - max_age;

  perform passport_private.prune_limits();

  return too_old + too_many;
end
$$;
