-- What a partition needs that Postgres does not carry over from its parent.
-- The parent's grants, RLS and policies guard every read through the parent,
-- but a partition is a table of its own, reachable by name: Supabase's default
-- privileges give the API roles ALL on every table created in public (and
-- pg_partman creates each month's partition there), and a partition has no
-- RLS of its own. So each partition loses every API grant and gets RLS without
-- policies (nothing passes even if a grant comes back). Statement triggers are
-- not cloned to partitions either: each gets the parent's append-only guard
-- for TRUNCATE (the row guards are cloned by Postgres). Idempotent; run by
-- passport_private.maintain_partitions in the transaction that creates the
-- partitions, so no partition is ever exposed.
create or replace function passport_private.secure_partitions(parent regclass, guard regproc)
returns int
language plpgsql
volatile
set search_path = ''
as $$
declare
  part regclass;
  secured int := 0;
begin
  for part in
    select i.inhrelid::regclass
    from pg_catalog.pg_inherits as i
    where i.inhparent = parent
    order by i.inhrelid
  loop
    execute format('revoke all on table %s from anon, authenticated, service_role', part);
    execute format('alter table %s enable row level security', part);
    execute format('create or replace trigger append_only_truncate before truncate on %s '
                   'for each statement execute function %s()', part, guard::regproc);
    execute format('alter table %s enable always trigger append_only_truncate', part);
    secured := secured + 1;
  end loop;
  return secured;
end
$$;

comment on function passport_private.secure_partitions(regclass, regproc) is
  'Takes the API roles'' grants away from every partition of parent, enables RLS on it and adds the TRUNCATE guard; '
  'returns how many partitions it saw.';
