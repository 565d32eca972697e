-- Unsigned noise and signed evidence are pruned apart, each by its own age and row cap, so that no
-- volume of the one can push out the other. A row's age is that of its last request.
create or replace function treasury_private.prune_webhook_rejections(
  noise_max_age interval default interval '30 days',
  noise_max_rows bigint default 10000,
  evidence_max_age interval default interval '90 days',
  evidence_max_rows bigint default 100000
)
returns bigint
language plpgsql
as $$
declare
  pruned bigint := 0;
  removed bigint;
  kind record;
begin
  for kind in
    select * from (values (false, noise_max_age, noise_max_rows), (true, evidence_max_age, evidence_max_rows))
      as k(signed, max_age, max_rows)
  loop
    delete from treasury.webhook_rejections as r where r.signed = kind.signed and r.last_seen < now() - kind.max_age;
    get diagnostics removed = row_count;
    pruned := pruned + removed;

    delete from treasury.webhook_rejections as r
    where r.id in (select k.id from treasury.webhook_rejections as k
                   where k.signed = kind.signed
                   order by k.last_seen desc, k.id desc
                   offset kind.max_rows);
    get diagnostics removed = row_count;
    pruned := pruned + removed;
  end loop;
  return pruned;
end
$$;
