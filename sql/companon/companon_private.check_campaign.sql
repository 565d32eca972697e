-- The scalar fields of a campaign, as create_campaign and update_campaign take them; 22023 names the first
-- bad one.
create or replace function companon_private.check_campaign(
  name text, objective text, budget_minor bigint, currency text, starts_at timestamptz, ends_at timestamptz)
returns void
language plpgsql
immutable
as $$
declare
  problem text;
begin
  problem := case
    when name is null or char_length(btrim(name)) not between 1 and 200 then 'name must be a string of 1 to 200 characters'
    when objective is null or objective not in ('awareness', 'engagement', 'conversions') then
      'objective must be awareness, engagement or conversions'
    when budget_minor is null or budget_minor <= 0 then 'budget_minor must be a positive amount in minor units (cents)'
    when currency is null or currency !~ '^[A-Z]{3}$' then 'currency must be an ISO 4217 code in capitals (EUR)'
    when starts_at is null or not isfinite(starts_at) then 'starts_at is required'
    when ends_at is null or not isfinite(ends_at) then 'ends_at is required'
    when ends_at <= starts_at then 'ends_at must be after starts_at'
  end;
  if problem is not null then
    raise exception using errcode = '22023', message = problem;
  end if;
end
$$;
