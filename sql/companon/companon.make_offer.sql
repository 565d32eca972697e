-- A brand's owner or manager (or the platform) offers an artist a sponsorship in an active campaign: an
-- amount of the campaign's currency, terms, and how long the artist has to answer (by default 14 days,
-- never past the campaign's end). One open offer per artist and campaign. Logs companon.offer_made in the
-- same transaction; returns the offer's id.
create or replace function companon.make_offer(
  campaign_id uuid, artist_id uuid, amount_minor bigint, terms text, expires_at timestamptz default null)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  r text;
  c companon.campaigns;
  clean_terms text := btrim(make_offer.terms);
  ends timestamptz;
  o companon.offers;
  left_minor bigint;
begin
  r := companon_private.campaign_role(make_offer.campaign_id, 'make an offer');
  if r not in ('owner', 'manager', 'platform') then
    raise exception using
      errcode = '42501',
      message = format('only an owner or manager of its brand can make offers in campaign %s', make_offer.campaign_id);
  end if;
  if make_offer.artist_id is null then
    raise exception using errcode = '22023', message = 'artist_id is required (the artist''s user id)';
  end if;
  if make_offer.amount_minor is null or make_offer.amount_minor <= 0 then
    raise exception using errcode = '22023',
      message = format('amount_minor must be a positive number of minor units, got %s', coalesce(make_offer.amount_minor::text, 'null'));
  end if;
  if clean_terms is null or char_length(clean_terms) not between 1 and 4000 then
    raise exception using errcode = '22023', message = 'terms must be 1 to 4000 characters',
      hint = 'Say what the artist does for the sponsorship: posts, mentions, appearances, dates.';
  end if;
  if not exists (select 1 from auth.users as u where u.id = make_offer.artist_id) then
    raise exception using errcode = 'P0002', message = format('artist %s not found', make_offer.artist_id),
      detail = 'unknown_artist';
  end if;

  select * into c from companon.campaigns as t where t.id = make_offer.campaign_id for no key update;
  if c.state <> 'active' or c.ends_at <= now() then
    raise exception using
      errcode = '55000',
      message = format('campaign %s is %s: offers are made in an active campaign before its end (%s)',
                       c.id, case when c.state = 'active' then 'over' else c.state end, c.ends_at),
      detail = 'campaign_not_active';
  end if;
  ends := coalesce(make_offer.expires_at, least(now() + interval '14 days', c.ends_at));
  if ends <= now() or ends > c.ends_at or not isfinite(ends) then
    raise exception using
      errcode = '22023',
      message = format('expires_at must be after now and at most the campaign''s end (%s), got %s', c.ends_at, ends);
  end if;
  left_minor := c.budget_minor - companon_private.committed(c.id);
  if make_offer.amount_minor > left_minor then
    raise exception using
      errcode = '55000',
      message = format('campaign %s has %s %s of its budget left (%s committed of %s): an offer of %s does not fit',
                       c.id, left_minor, c.currency, c.budget_minor - left_minor, c.budget_minor, make_offer.amount_minor),
      detail = 'budget_exceeded';
  end if;
  if exists (select 1 from companon.offers as x
             where x.campaign_id = c.id and x.artist_id = make_offer.artist_id and x.state in ('offered', 'accepted', 'paid')) then
    raise exception using
      errcode = '23505',
      message = format('artist %s has an open offer in campaign %s already', make_offer.artist_id, c.id),
      detail = 'offer_exists',
      hint = 'Withdraw it first, or wait for the artist''s answer.';
  end if;

  insert into companon.offers as x (campaign_id, brand_id, artist_id, amount_minor, currency, terms, expires_at, created_by)
  values (c.id, c.brand_id, make_offer.artist_id, make_offer.amount_minor, c.currency, clean_terms, ends,
          case when r <> 'platform' then auth.uid() end)
  returning * into o;
  perform companon_private.record_offer_transition(o, 'create', null, r, null);
  return o.id;
end
$$;

comment on function companon.make_offer(uuid, uuid, bigint, text, timestamptz) is
  'An owner or manager of the campaign''s brand (or the platform) offers artist_id (the artist''s user id) a '
  'sponsorship of amount_minor in the campaign''s currency under terms, open until expires_at (default 14 days, at '
  'most the campaign''s end). The campaign must be active; the amount must fit in what its budget has not committed. '
  'Returns the offer''s id. 22023 bad argument; P0002 campaign not found, unknown_artist; 42501 not an owner or '
  'manager; 55000 campaign_not_active, budget_exceeded; 23505 offer_exists.';

grant execute on function companon.make_offer(uuid, uuid, bigint, text, timestamptz) to authenticated, service_role;
