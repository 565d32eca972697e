-- Writes a user's plan row: plan null (or free) removes it; expires_at null
-- is a plan without end. A change of the plan in force (an ended row counts
-- as free) is logged as system.plan_changed under client_event_id, in the
-- same transaction. Returns the plan now in force.
create or replace function coliseum_private.put_plan(user_id uuid, plan text, expires_at timestamptz, client_event_id text)
returns text
language plpgsql
volatile
as $$
declare
  wanted text := nullif(put_plan.plan, 'free');
  current_row coliseum.user_plans;
  was text;
  now_in_force text;
begin
  -- One change at a time per user, so each logged event is a real change.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('coliseum.set_plan:' || put_plan.user_id::text, 0));
  select * into current_row from coliseum.user_plans as u where u.user_id = put_plan.user_id;
  was := case when current_row.expires_at is null or current_row.expires_at > now() then current_row.plan end;
  now_in_force := case when put_plan.expires_at is null or put_plan.expires_at > now() then wanted end;
  if current_row.plan is not distinct from wanted and current_row.expires_at is not distinct from put_plan.expires_at then
    return coalesce(now_in_force, 'free');
  end if;

  if wanted is null then
    delete from coliseum.user_plans as u where u.user_id = put_plan.user_id;
  else
    insert into coliseum.user_plans as u (user_id, plan, expires_at, updated_at)
    values (put_plan.user_id, wanted, put_plan.expires_at, now())
    on conflict on constraint user_plans_pkey do update
    set plan = excluded.plan, expires_at = excluded.expires_at, updated_at = excluded.updated_at;
  end if;

  if was is distinct from now_in_force then
    perform passport.log(
      user_id => put_plan.user_id,
      kind => 'system.plan_changed',
      client_event_id => put_plan.client_event_id,
      payload => jsonb_build_object('plan', coalesce(now_in_force, 'free')),
      source => 'system');
  end if;
  return coalesce(now_in_force, 'free');
end
$$;
