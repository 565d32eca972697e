create or replace function companon.update_campaign(
  campaign_id uuid,
  name text default null,
  objective text default null,
  budget_minor bigint default null,
  currency text default null,
  starts_at timestamptz default null,
  ends_at timestamptz default null,
  target jsonb default null,
  creatives jsonb default null
)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  r text := companon_private.campaign_role(update_campaign.campaign_id, 'edit a campaign');
  c companon.campaigns;
begin
  if r not in ('owner', 'manager', 'platform') then
    raise exception using
      errcode = '42501',
      message = format('only an owner or manager of its brand edits campaign %s', update_campaign.campaign_id);
  end if;
  select * into c from companon.campaigns as t where t.id = update_campaign.campaign_id for update;
  if c.state <> 'draft' then
    raise exception using
      errcode = '55000',
      message = format('campaign %s is %s: only a draft can be edited', c.id, c.state),
      detail = 'not_draft',
      hint = case c.state when 'in_review' then 'Withdraw it from review first (transition_campaign ''withdraw'').'
                          else 'Create a new campaign.' end;
  end if;
  c.name := coalesce(update_campaign.name, c.name);
  c.objective := coalesce(update_campaign.objective, c.objective);
  c.budget_minor := coalesce(update_campaign.budget_minor, c.budget_minor);
  c.currency := coalesce(update_campaign.currency, c.currency);
  c.starts_at := coalesce(update_campaign.starts_at, c.starts_at);
  c.ends_at := coalesce(update_campaign.ends_at, c.ends_at);
  perform companon_private.check_campaign(c.name, c.objective, c.budget_minor, c.currency, c.starts_at, c.ends_at);
  update companon.campaigns as t set
    name = btrim(c.name), objective = c.objective, budget_minor = c.budget_minor, currency = c.currency,
    starts_at = c.starts_at, ends_at = c.ends_at,
    target = case when update_campaign.target is null then t.target else companon_private.target(update_campaign.target) end,
    creatives = case when update_campaign.creatives is null then t.creatives
                     else companon_private.creatives(update_campaign.creatives) end,
    updated_at = now()
  where t.id = c.id;
end
$$;

comment on function companon.update_campaign(uuid, text, text, bigint, text, timestamptz, timestamptz, jsonb, jsonb) is
  'Changes a draft campaign: every argument given (not null) replaces its field, target and creatives whole. For '
  'the brand''s owners and managers and the platform. 55000 not_draft for a campaign in any other state (what '
  'was reviewed is what runs); 22023 names the first bad argument.';

grant execute on function companon.update_campaign(uuid, text, text, bigint, text, timestamptz, timestamptz, jsonb, jsonb)
  to authenticated, service_role;
