-- The refund worker on a schedule (docs/treasury-refunds.md, "The refund worker"), as the payout worker and
-- the receipts sender are (20261202104720_treasury_edge_schedule.sql): on hosted Supabase pg_cron calls the
-- refund-worker edge function through pg_net every minute, reading the project URL and the service role key
-- from Vault when the job runs. Where pg_net cannot be had (the local stack, whose gateway makes the same
-- call on the same schedule, local/schedule.ts) nothing is scheduled; a project that gets pg_net later runs
-- the same cron.schedule call (it replaces a job of the same name).

do $schedule$
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net') then
    raise notice 'pg_net is not installed: the refund worker is not scheduled from the database';
    return;
  end if;
  perform cron.schedule(
    'treasury-refund-worker',
    '* * * * *',
    $job$
      select net.http_post(
        url := (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') || '/functions/v1/refund-worker',
        headers := jsonb_build_object(
          'Content-Type', 'application/json',
          'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'service_role_key')),
        body := '{}'::jsonb,
        timeout_milliseconds := 55000
      ) as request_id
    $job$);
end
$schedule$;
