create or replace function companon.transition_campaign(campaign_id uuid, action text, reason text default null)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  -- action: the states it takes a campaign from, the state it leaves it in.
  rule record;
  r text;
  actor text;
  c companon.campaigns;
  why text := nullif(btrim(transition_campaign.reason), '');
begin
  select * into rule from (values
    ('submit', array['draft'], 'in_review'),
    ('withdraw', array['in_review'], 'draft'),
    ('approve', array['in_review'], 'active'),
    ('reject', array['in_review'], 'draft'),
    ('pause', array['active'], 'paused'),
    ('resume', array['paused'], 'active'),
    ('complete', array['active', 'paused'], 'completed'),
    ('cancel', array['draft', 'in_review', 'active', 'paused'], 'cancelled')
  ) as t(action, from_states, to_state)
  where t.action = transition_campaign.action;
  if not found then
    raise exception using errcode = '22023',
      message = 'action must be submit, withdraw, approve, reject, pause, resume, complete or cancel';
  end if;
  if char_length(why) > 500 then
    raise exception using errcode = '22023', message = 'reason must be at most 500 characters';
  end if;
  if rule.action = 'reject' and why is null then
    raise exception using errcode = '22023', message = 'a rejection needs a reason (1 to 500 characters)',
      hint = 'Say what the brand must change; it reads it in the campaign''s review_note.';
  end if;

  -- Who acts: the brand's owners and managers run their campaigns, admins review them (never their own
  -- brand's) and may stop any, the platform does everything.
  r := companon_private.campaign_role(transition_campaign.campaign_id, format('%s a campaign', rule.action));
  actor := case
    when r = 'platform' then r
    when rule.action in ('approve', 'reject') then case when r = 'admin' then r end
    when r in ('owner', 'manager') then r
    when rule.action not in ('submit', 'withdraw') and treasury.is_admin() then 'admin'
  end;
  if actor is null then
    raise exception using
      errcode = '42501',
      message = case
        when rule.action in ('approve', 'reject') and treasury.is_admin() then
          format('campaign %s is of a brand you are a member of: another admin reviews it', transition_campaign.campaign_id)
        when rule.action in ('approve', 'reject') then 'only an admin reviews campaigns'
        else format('only an owner or manager of its brand can %s campaign %s', rule.action, transition_campaign.campaign_id)
      end;
  end if;

  select * into c from companon.campaigns as t where t.id = transition_campaign.campaign_id for update;
  if c.state <> all (rule.from_states) then
    raise exception using
      errcode = '55000',
      message = format('campaign %s is %s: %s takes a campaign that is %s', c.id, c.state, rule.action,
                       array_to_string(rule.from_states, ' or ')),
      detail = 'invalid_transition',
      hint = 'docs/companon.md#states lists the transitions.';
  end if;
  if rule.action = 'resume' and c.admin_hold and actor not in ('admin', 'platform') then
    raise exception using
      errcode = '42501',
      message = format('campaign %s was paused by an admin: only an admin resumes it', c.id),
      detail = 'admin_hold';
  end if;
  if rule.action in ('submit', 'approve', 'resume') and c.ends_at <= now() then
    raise exception using
      errcode = '55000',
      message = format('campaign %s ended at %s', c.id, c.ends_at),
      detail = 'campaign_ended',
      hint = case when c.state = 'draft' then 'Move its schedule (update_campaign) first.' else 'Complete or cancel it.' end;
  end if;
  if rule.action = 'submit' and jsonb_array_length(c.creatives) = 0 then
    raise exception using
      errcode = '55000',
      message = format('campaign %s has no creatives: add at least one link before submitting it', c.id),
      detail = 'no_creatives';
  end if;

  perform companon_private.move(c.id, rule.action, rule.to_state, actor, why);
  return rule.to_state;
end
$$;

comment on function companon.transition_campaign(uuid, text, text) is
  'Moves a campaign through its states: submit (draft -> in_review), withdraw (in_review -> draft), approve '
  '(in_review -> active) and reject (in_review -> draft, reason required) by an admin of another brand or the '
  'platform, pause (active -> paused), resume (paused -> active), complete (active or paused -> completed), cancel '
  '(any but completed and cancelled -> cancelled). Logs the transition and its Passport event in the same '
  'transaction; returns the new state. 55000 invalid_transition, campaign_ended, no_creatives; 42501 admin_hold.';

grant execute on function companon.transition_campaign(uuid, text, text) to authenticated, service_role;
