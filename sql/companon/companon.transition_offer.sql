-- Moves an offer through its states: the artist (or the platform) accepts or declines an offer; the
-- brand's owners and managers, admins and the platform withdraw it while it waits for an answer. Paying,
-- refunding and expiring are Treasury's and the job's (companon_private.pay_offer, refund_offer,
-- expire_offers). An accept locks the campaign's row and checks what is committed against the budget, so
-- concurrent accepts never commit more than the budget. Logs the transition and its Passport event in the
-- same transaction; returns the new state.
create or replace function companon.transition_offer(offer_id uuid, action text, reason text default null)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  rule record;
  why text := nullif(btrim(transition_offer.reason), '');
  me uuid := auth.uid();
  o companon.offers;
  c companon.campaigns;
  r text;
  actor text;
  from_state text;
  committed bigint;
begin
  select * into rule from (values
    ('accept', 'accepted'),
    ('decline', 'declined'),
    ('withdraw', 'withdrawn')
  ) as t(action, to_state)
  where t.action = transition_offer.action;
  if not found then
    raise exception using errcode = '22023', message = 'action must be accept, decline or withdraw';
  end if;
  if char_length(why) > 500 then
    raise exception using errcode = '22023', message = 'reason must be at most 500 characters';
  end if;

  -- Who acts: the artist answers, the brand withdraws. Whoever may not even see the offer is told it
  -- does not exist.
  select * into o from companon.offers as x where x.id = transition_offer.offer_id;
  if companon_private.caller_is_privileged() then
    r := case when o.id is not null then 'platform' end;
  elsif me is null then
    raise exception using errcode = '42501', message = format('sign in to %s an offer', rule.action),
      hint = 'Call with a user''s access token.';
  else
    r := case when o.id is not null then companon_private.brand_role(o.brand_id, format('%s an offer', rule.action)) end;
  end if;
  if r is null and (o.artist_id is distinct from me or me is null) then
    raise exception using
      errcode = 'P0002',
      message = format('offer %s not found', transition_offer.offer_id),
      hint = 'An offer is visible to the members of its brand, to admins and to its artist.';
  end if;
  actor := case
    when r = 'platform' then r
    when rule.action in ('accept', 'decline') then case when o.artist_id = me then 'artist' end
    when r in ('owner', 'manager', 'admin') then r
  end;
  if actor is null then
    raise exception using
      errcode = '42501',
      message = case when rule.action in ('accept', 'decline')
        then format('only the artist it is made to can %s offer %s', rule.action, o.id)
        else format('only an owner or manager of its brand, or an admin, can withdraw offer %s', o.id) end;
  end if;

  -- The campaign first, then the offer: every path that takes both takes them in this order.
  select * into c from companon.campaigns as t where t.id = o.campaign_id for no key update;
  select * into o from companon.offers as x where x.id = o.id for update;
  if o.state <> 'offered' then
    raise exception using
      errcode = '55000',
      message = format('offer %s is %s: %s takes an offer that is offered', o.id, o.state, rule.action),
      detail = 'invalid_transition',
      hint = 'docs/companon.md#offers-and-sponsorships lists the transitions.';
  end if;
  if rule.action = 'accept' then
    if o.expires_at <= now() then
      raise exception using
        errcode = '55000', message = format('offer %s expired at %s', o.id, o.expires_at), detail = 'offer_expired';
    end if;
    if c.state <> 'active' or c.ends_at <= now() then
      raise exception using
        errcode = '55000',
        message = format('campaign %s is %s: an offer is accepted while its campaign is active', c.id,
                         case when c.state = 'active' then 'over' else c.state end),
        detail = 'campaign_not_active';
    end if;
    committed := companon_private.committed(c.id);
    if committed + o.amount_minor > c.budget_minor then
      raise exception using
        errcode = '55000',
        message = format('accepting offer %s (%s %s) would commit %s of campaign %s''s budget of %s (%s committed)',
                         o.id, o.amount_minor, o.currency, committed + o.amount_minor, c.id, c.budget_minor, committed),
        detail = 'budget_exceeded',
        hint = 'The brand''s other accepted offers used the budget; the brand may withdraw this offer.';
    end if;
  end if;

  from_state := o.state;
  update companon.offers as x set
    state = rule.to_state,
    accepted_at = case when rule.action = 'accept' then now() end,
    reason = why,
    state_changed_at = now(),
    updated_at = now()
  where x.id = o.id
  returning * into o;
  perform companon_private.record_offer_transition(o, rule.action, from_state, actor, why);
  return rule.to_state;
end
$$;

comment on function companon.transition_offer(uuid, text, text) is
  'Answers or withdraws an offer that is offered: accept (-> accepted: the artist or the platform; the campaign must '
  'be active, the offer not expired, and the campaign''s committed amount plus this one within its budget), decline '
  '(-> declined: the artist or the platform), withdraw (-> withdrawn: an owner or manager of the brand, an admin, '
  'the platform). reason: optional, at most 500 characters. Returns the new state. P0002 not found (or not yours to '
  'see); 42501 not yours to answer or withdraw; 55000 invalid_transition, offer_expired, campaign_not_active, '
  'budget_exceeded.';

grant execute on function companon.transition_offer(uuid, text, text) to authenticated, service_role;
