-- What a partition needs that Postgres does not carry over from its parent.
-- The parent's grants, RLS and policies guard every read through the parent,
-- but a partition is a table of its own, reachable by name: Supabase's default
-- privileges give the API roles ALL on every table created in public (and
-- pg_partman creates each month's partition there), and a partition has no
-- RLS of its own. So each partition loses every API grant and gets RLS without
-- policies (nothing passes even if a grant comes back). Statement triggers are
-- not cloned to partitions either: each gets the parent's append-only guard
-- for TRUNCATE (the row guards are cloned by Postgres). Run by
-- passport_private.maintain_partitions in the transaction that creates the
-- partitions, so no partition is ever exposed. It touches only the partitions
-- that lack something: ENABLE ROW LEVEL SECURITY takes an ACCESS EXCLUSIVE
-- lock, which the hourly job must not take on the month being written (nor
-- wait for autovacuum there).
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
    select c.oid::regclass
    from pg_catalog.pg_inherits as i
    join pg_catalog.pg_class as c on c.oid = i.inhrelid
    where i.inhparent = parent
      and (not c.relrowsecurity
           or exists (select from pg_catalog.aclexplode(c.relacl) as a
                      join pg_catalog.pg_roles as r on r.oid = a.grantee
                      where r.rolname in ('anon', 'authenticated', 'service_role'))
           or not exists (select from pg_catalog.pg_trigger as t
                          where t.tgrelid = c.oid and t.tgname = 'append_only_truncate' and t.tgfoid = guard
                            and t.tgenabled = 'A'))
    order by c.oid
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
  'Takes the API roles'' grants away from each partition of parent that has one, enables RLS and adds the TRUNCATE '
  'guard where missing; returns how many partitions it changed.';
