-- The pg_cron job companon-expire-offers (every minute): expires the offers still waiting for an answer
-- whose expiry has passed or whose campaign has ended (completed, cancelled, or past its end), as the
-- platform, at most `max_offers` per run, oldest expiry first; rows another transaction holds are left to
-- the next run. Returns how many it expired.
create or replace function companon_private.expire_offers(max_offers int default 1000)
returns int
language plpgsql
volatile
as $$
declare
  due record;
  o companon.offers;
  n int := 0;
begin
  for due in
    select x.id,
           case when x.expires_at <= now() then 'the offer ran out'
                when c.state = 'cancelled' then 'the campaign was cancelled'
                else 'the campaign ended' end as why
    from companon.offers as x
    join companon.campaigns as c on c.id = x.campaign_id
    where x.state = 'offered'
      and (x.expires_at <= now() or c.state in ('completed', 'cancelled') or c.ends_at <= now())
    order by x.expires_at, x.id
    limit max_offers
    for update of x skip locked
  loop
    update companon.offers as x
    set state = 'expired', reason = due.why, state_changed_at = now(), updated_at = now()
    where x.id = due.id
    returning * into o;
    perform companon_private.record_offer_transition(o, 'expire', 'offered', 'platform', due.why);
    n := n + 1;
  end loop;
  return n;
end
$$;
