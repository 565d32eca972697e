-- Sets a user's plan, without end (a plan bought by subscription ends with
-- its period: treasury_private.sync_plan); null or 'free' removes it. A
-- change (and only a change) is logged as the Passport event
-- system.plan_changed in the same transaction. Returns the plan now in force.
create or replace function coliseum.set_plan(user_id uuid, plan text)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  wanted text := nullif(lower(set_plan.plan), 'free');
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

  return coliseum_private.put_plan(set_plan.user_id, wanted, null,
    'coliseum.set_plan:' || pg_catalog.gen_random_uuid()::text);
end
$$;

comment on function coliseum.set_plan(uuid, text) is
  'Service role: sets a user''s plan (basic, pro, enterprise; free or null removes it) and logs system.plan_changed.';

grant execute on function coliseum.set_plan(uuid, text) to service_role;
