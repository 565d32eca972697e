-- The pg_cron job companon-complete-ended (every minute): completes the active and paused campaigns whose
-- schedule has ended, as the platform, at most `max_campaigns` per run, oldest end first; rows another
-- transaction holds are left to the next run. Returns how many it completed.
create or replace function companon_private.complete_ended(max_campaigns int default 1000)
returns int
language plpgsql
volatile
as $$
declare
  ended uuid;
  n int := 0;
begin
  for ended in
    select c.id from companon.campaigns as c
    where c.state in ('active', 'paused') and c.ends_at <= now()
    order by c.ends_at
    limit max_campaigns
    for update skip locked
  loop
    perform companon_private.move(ended, 'complete', 'completed', 'platform', 'the schedule ended');
    n := n + 1;
  end loop;
  return n;
end
$$;
