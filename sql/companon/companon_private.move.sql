-- Moves a locked campaign to to_state by action and records it. An admin's or the platform's pause holds
-- the campaign for an admin (admin_hold); leaving paused releases the hold. A rejection's reason becomes
-- the campaign's review_note, an approval clears it. Returns the transition's id.
create or replace function companon_private.move(campaign_id uuid, action text, to_state text, actor text, reason text)
returns bigint
language plpgsql
volatile
as $$
declare
  c companon.campaigns;
  from_state text;
begin
  select t.state into from_state from companon.campaigns as t where t.id = move.campaign_id;
  update companon.campaigns as t set
    state = to_state,
    admin_hold = (action = 'pause' and actor in ('admin', 'platform')),
    review_note = case action when 'reject' then reason when 'approve' then null else t.review_note end,
    state_changed_at = now(),
    updated_at = now()
  where t.id = move.campaign_id
  returning * into c;
  return companon_private.record_transition(c, action, from_state, actor, reason);
end
$$;
