-- pg_cron writes a cron.job_run_details row per run and never deletes one: a
-- job every second adds 86,400 rows a day. Every 10 minutes this drops runs
-- that ended more than 7 days ago, at most 50,000 per call (oldest first), so
-- one call stays short however large a backlog is; 7.2 million rows a day can
-- go. A run that never recorded its end counts from its start.
create or replace function passport_private.prune_cron_history(
  max_age interval default interval '7 days',
  max_rows int default 50000
)
returns bigint
language plpgsql
as $$
declare
  pruned bigint;
begin
  delete from cron.job_run_details as d
  where d.runid in (select r.runid
                    from cron.job_run_details as r
                    where coalesce(r.end_time, r.start_time) < now() - max_age
                    order by r.runid
                    limit max_rows);
  get diagnostics pruned = row_count;
  return pruned;
end
$$;
