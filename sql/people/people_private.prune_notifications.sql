-- Retention (cron job people-prune-notifications, daily): deletes read notifications older than keep_days.
-- Unread ones stay however old: the user has not seen them yet. Returns how many were deleted.
create or replace function people_private.prune_notifications(keep_days int)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  deleted bigint;
begin
  if keep_days is null or keep_days < 1 then
    raise exception using errcode = '22023', message = 'keep_days must be at least 1';
  end if;
  delete from people.notifications as n
  where n.read_at is not null and n.created_at < now() - make_interval(days => keep_days);
  get diagnostics deleted = row_count;
  return deleted;
end
$$;

comment on function people_private.prune_notifications(int) is
  'Deletes read notifications older than keep_days (at least 1); unread ones stay. Run daily by the cron job '
  'people-prune-notifications (90 days). Returns the count deleted.';
