-- The pg_cron job buckets-partition-maintenance: pg_partman's maintenance of
-- the two partitioned logs (the next months' partitions, premade 4 ahead),
-- then what each new partition needs (passport_private.secure_partitions), in
-- one transaction. The partition sets are registered with automatic
-- maintenance off, so pg_partman's own run_maintenance() (a background worker
-- or another job) leaves them to this function. Retention is off: a month is
-- detached by hand (docs/partitions.md). No SET search_path here: pg_partman
-- sets the session's search_path and puts the one it found back with a
-- session-wide set_config, which would leave a function's '' in the caller's
-- session. Every name below is qualified.
create or replace function passport_private.maintain_partitions()
returns void
language plpgsql
volatile
as $$
begin
  perform partman.run_maintenance(p_parent_table => 'public.passport_entries', p_jobmon => false);
  perform partman.run_maintenance(p_parent_table => 'public.coliseum_dna_mutations', p_jobmon => false);
  perform passport_private.secure_partitions('public.passport_entries', 'passport_private.guard_passport_entries');
  perform passport_private.secure_partitions('public.coliseum_dna_mutations', 'coliseum_private.guard_mutations');
end
$$;

comment on function passport_private.maintain_partitions() is
  'Creates the coming months'' partitions of public.passport_entries and public.coliseum_dna_mutations (pg_partman) '
  'and secures every partition; run hourly by pg_cron (buckets-partition-maintenance).';
