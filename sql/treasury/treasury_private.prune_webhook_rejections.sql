create or replace function treasury_private.prune_webhook_rejections(
  max_age interval default interval '30 days',
  max_rows bigint default 100000
)
returns bigint
language plpgsql
as $$
declare
  too_old bigint;
  too_many bigint;
begin
  delete from treasury.webhook_rejections as r where r.rejected_at < now() - max_age;
  get diagnostics too_old = row_count;

  delete from treasury.webhook_rejections as r
  where r.id <= (select k.id from treasury.webhook_rejections as k order by k.id desc offset max_rows limit 1);
  get diagnostics too_many = row_count;

  return too_old + too_many;
end
$$;
