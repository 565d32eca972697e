create or replace function concierto_private.expire_orders(max_orders int default 10000)
returns int
language plpgsql
volatile
as $$
declare
  expired int;
begin
  update concierto.orders as o
  set state = 'expired'
  where o.id in (select x.id from concierto.orders as x
                 where x.state = 'reserved' and x.expires_at <= now()
                 order by x.expires_at
                 limit max_orders
                 for update skip locked);
  get diagnostics expired = row_count;
  return expired;
end
$$;
