-- The payout worker and the receipts sender on a schedule (docs/treasury-receipts.md, "Scheduling").
--
-- On hosted Supabase, pg_cron calls the two edge functions through pg_net every minute, Supabase's
-- "Scheduling Edge Functions" pattern: the project URL and the service role key are read from Vault
-- when the job runs (create them once: select vault.create_secret('https://<ref>.supabase.co',
-- 'project_url'); select vault.create_secret('<service role key>', 'service_role_key');), so no
-- secret is written into a migration or into cron.job.
--
-- pg_net is created here where the server has it (every hosted project does; it is off until
-- created). Where it cannot be had (the local stack, which calls both functions itself on the same
-- schedule) nothing is scheduled. A project that gets pg_net later runs the same two cron.schedule
-- calls (cron.schedule replaces a job of the same name).

do $net$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net with schema extensions;
  end if;
end
$net$;

do $schedule$
declare
  fn text;
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net') then
    raise notice 'pg_net is not installed: the payout worker and the receipts sender are not scheduled from the database';
    return;
  end if;
  foreach fn in array array['payout-worker', 'receipts-sender'] loop
    perform cron.schedule(
      'treasury-' || fn,
      '* * * * *',
      format($job$
        select net.http_post(
          url := (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') || '/functions/v1/%s',
          headers := jsonb_build_object(
            'Content-Type', 'application/json',
            'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = 'service_role_key')),
          body := '{}'::jsonb,
          timeout_milliseconds := 55000
        ) as request_id
      $job$, fn));
  end loop;
end
$schedule$;
