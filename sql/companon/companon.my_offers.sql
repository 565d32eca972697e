-- The artist's side: the offers made to the signed-in user, newest first, optionally of one state, with
-- what the artist needs to answer them: the brand's name and the campaign's name, objective, schedule and
-- creatives (the artist reads no campaign row itself).
create or replace function companon.my_offers(in_state text default null)
returns table (
  id uuid,
  campaign_id uuid,
  brand_id uuid,
  brand_name text,
  campaign_name text,
  objective text,
  starts_at timestamptz,
  ends_at timestamptz,
  creatives jsonb,
  amount_minor bigint,
  currency text,
  terms text,
  state text,
  expires_at timestamptz,
  reason text,
  created_at timestamptz,
  accepted_at timestamptz,
  paid_at timestamptz,
  refunded_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
begin
  if me is null then
    raise exception using errcode = '42501', message = 'sign in to read your offers',
      hint = 'Call with the artist''s access token.';
  end if;
  perform companon_private.offer_state_arg(my_offers.in_state);
  return query
    select o.id, o.campaign_id, o.brand_id, b.name, c.name, c.objective, c.starts_at, c.ends_at, c.creatives,
           o.amount_minor, o.currency::text, o.terms, o.state, o.expires_at, o.reason, o.created_at, o.accepted_at,
           o.paid_at, o.refunded_at
    from companon.offers as o
    join companon.campaigns as c on c.id = o.campaign_id
    join companon.brands as b on b.id = o.brand_id
    where o.artist_id = me and (my_offers.in_state is null or o.state = my_offers.in_state)
    order by o.created_at desc, o.id;
end
$$;

comment on function companon.my_offers(text) is
  'The offers made to the signed-in artist, newest first (in_state: only those in it), with the brand''s name and the '
  'campaign''s name, objective, schedule and creatives. 42501 without a user; 22023 unknown state.';

grant execute on function companon.my_offers(text) to authenticated;
