-- Sets a user's Coliseum plan from their plan subscriptions: the highest
-- plan that gives access now, until its access ends; none removes a plan a
-- subscription set. A plan set by hand (no end) stays unless a subscription
-- gives a higher one.
create or replace function treasury_private.sync_plan(user_id uuid, client_event_id text)
returns void
language plpgsql
volatile
as $$
declare
  best_plan text;
  best_until timestamptz;
  current_row coliseum.user_plans;
begin
  select s.plan, s.access_until into best_plan, best_until
  from treasury.subscriptions as s
  join coliseum.plans as p on p.plan = s.plan
  where s.user_id = sync_plan.user_id and s.kind = 'plan' and s.access_until > now()
  order by coalesce(p.depth, 2147483647) desc, s.access_until desc
  limit 1;
  select * into current_row from coliseum.user_plans as u where u.user_id = sync_plan.user_id;
  if current_row.user_id is not null and current_row.expires_at is null
     and (best_plan is null
          or (select coalesce(p.depth, 2147483647) from coliseum.plans as p where p.plan = current_row.plan)
             >= (select coalesce(p.depth, 2147483647) from coliseum.plans as p where p.plan = best_plan)) then
    return;
  end if;
  perform coliseum_private.put_plan(sync_plan.user_id, best_plan, best_until, client_event_id);
end
$$;
