create or replace function companon.create_campaign(
  brand_id uuid,
  name text,
  objective text,
  budget_minor bigint,
  currency text,
  starts_at timestamptz,
  ends_at timestamptz,
  target jsonb,
  creatives jsonb default '[]'
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  r text := companon_private.visible_brand_role(create_campaign.brand_id, 'create a campaign');
  c companon.campaigns;
begin
  if r not in ('owner', 'manager', 'platform') then
    raise exception using
      errcode = '42501',
      message = format('only an owner or manager of brand %s creates its campaigns', create_campaign.brand_id);
  end if;
  perform companon_private.check_campaign(create_campaign.name, create_campaign.objective, create_campaign.budget_minor,
                                          create_campaign.currency, create_campaign.starts_at, create_campaign.ends_at);
  insert into companon.campaigns as t
    (brand_id, name, objective, budget_minor, currency, starts_at, ends_at, target, creatives, created_by)
  values
    (create_campaign.brand_id, btrim(create_campaign.name), create_campaign.objective, create_campaign.budget_minor,
     create_campaign.currency, create_campaign.starts_at, create_campaign.ends_at,
     companon_private.target(create_campaign.target), companon_private.creatives(coalesce(create_campaign.creatives, '[]')),
     auth.uid())
  returning * into c;
  perform companon_private.record_transition(c, 'create', null, r, null);
  return c.id;
end
$$;

comment on function companon.create_campaign(uuid, text, text, bigint, text, timestamptz, timestamptz, jsonb, jsonb) is
  'Creates a draft campaign of the brand: objective (awareness, engagement, conversions), budget in minor units of '
  'currency, schedule [starts_at, ends_at), target (docs/companon.md#the-target) and creatives (https links). For '
  'the brand''s owners and managers and the platform. Logs companon.campaign_created. Returns its id; 22023 names '
  'the first bad argument.';

grant execute on function companon.create_campaign(uuid, text, text, bigint, text, timestamptz, timestamptz, jsonb, jsonb)
  to authenticated, service_role;
