-- Sets a user's plan; null or 'free' removes it. A change (and only a
-- change) is logged as the Passport event system.plan_changed in the same
-- transaction. Returns the plan now in force.
create or replace function coliseum.set_plan(user_id uuid, plan text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  wanted text := nullif(lower(set_plan.plan), 'free');
  current_plan text;
begin
  if set_plan.user_id is null then
    raise exception using
      errcode = '22023',
      message = 'user_id is required';
  end if;
  if wanted is not null and wanted not in ('basic', 'pro', 'enterprise') then
    raise exception using
      errcode = '22023',
      message = format('plan must be basic, pro, enterprise, or free (or null), got "%s"', set_plan.plan),
      hint = 'public and free are not stored: free (or null) removes the user''s plan.';
  end if;

  -- One change at a time per user, so each logged event is a real change.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('coliseum.set_plan:' || set_plan.user_id::text, 0));
  select u.plan into current_plan from coliseum.user_plans as u where u.user_id = set_plan.user_id;
  if current_plan is not distinct from wanted then
    return coalesce(wanted, 'free');
  end if;

  if wanted is null then
    delete from coliseum.user_plans as u where u.user_id = set_plan.user_id;
  else
    insert into coliseum.user_plans as u (user_id, plan, updated_at)
    values (set_plan.user_id, wanted, now())
    on conflict on constraint user_plans_pkey do update set plan = excluded.plan, updated_at = excluded.updated_at;
  end if;

  perform passport.log(
    user_id => set_plan.user_id,
    kind => 'system.plan_changed',
    client_event_id => 'coliseum.set_plan:' || pg_catalog.gen_random_uuid()::text,
    payload => jsonb_build_object('plan', coalesce(wanted, 'free')),
    source => 'system');
  return coalesce(wanted, 'free');
end
$$;

comment on function coliseum.set_plan(uuid, text) is
  'Service role: sets a user''s plan (basic, pro, enterprise; free or null removes it) and logs system.plan_changed.';

grant execute on function coliseum.set_plan(uuid, text) to service_role;
