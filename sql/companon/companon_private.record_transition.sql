-- Records what just happened to a campaign (c: the row as it is now): a row of campaign_transitions and
-- its Passport event (companon.campaign_<past tense of action>), logged under the brand's id in the
-- caller's transaction, so both commit or roll back with the change. The event's client_event_id is
-- campaign:<id>:<n>, n counting the campaign's transitions (its row is locked meanwhile). Returns the
-- transition's id.
create or replace function companon_private.record_transition(
  c companon.campaigns, action text, from_state text, actor text, reason text)
returns bigint
language plpgsql
volatile
as $$
declare
  me uuid := case when actor <> 'platform' then auth.uid() end;
  n bigint := (select count(*) + 1 from companon.campaign_transitions as t where t.campaign_id = c.id);
  entry bigint;
  new_id bigint;
begin
  entry := passport.log(
    user_id => c.brand_id,
    kind => 'companon.campaign_' || case action
      when 'create' then 'created' when 'submit' then 'submitted' when 'withdraw' then 'withdrawn'
      when 'approve' then 'approved' when 'reject' then 'rejected' when 'pause' then 'paused'
      when 'resume' then 'resumed' when 'complete' then 'completed' when 'cancel' then 'cancelled' end,
    client_event_id => format('campaign:%s:%s', c.id, n),
    payload => jsonb_strip_nulls(case when action = 'create' then
        jsonb_build_object('campaign_id', c.id, 'budget_minor', c.budget_minor, 'currency', c.currency, 'actor_id', me)
      else
        jsonb_build_object('campaign_id', c.id, 'from_state', from_state, 'actor_id', me, 'reason', reason)
      end),
    source => 'companon');
  insert into companon.campaign_transitions as t
    (campaign_id, brand_id, action, from_state, to_state, actor, actor_id, reason, passport_entry_id)
  values (c.id, c.brand_id, action, from_state, c.state, actor, me, reason, entry)
  returning t.id into new_id;
  return new_id;
end
$$;
