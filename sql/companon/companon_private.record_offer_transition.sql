-- Records what just happened to an offer (o: the row as it is now): a row of offer_transitions and its
-- Passport event (companon.offer_<past tense of action>), logged under the brand's id in the caller's
-- transaction, so both commit or roll back with the change. The artist is named in the payload, not as the
-- event's artist: a brand's offer is no fan activity. The event's client_event_id is offer:<id>:<n>, n
-- counting the offer's transitions (its row is locked meanwhile). The people it concerns are notified
-- (companon_private.notify_offer). Returns the transition's id.
create or replace function companon_private.record_offer_transition(
  o companon.offers, action text, from_state text, actor text, reason text)
returns bigint
language plpgsql
volatile
as $$
declare
  me uuid := case when actor <> 'platform' then auth.uid() end;
  n bigint := (select count(*) + 1 from companon.offer_transitions as t where t.offer_id = o.id);
  entry bigint;
  new_id bigint;
begin
  entry := passport.log(
    user_id => o.brand_id,
    kind => 'companon.offer_' || case action
      when 'create' then 'made' when 'withdraw' then 'withdrawn' when 'accept' then 'accepted'
      when 'decline' then 'declined' when 'expire' then 'expired' when 'pay' then 'paid'
      when 'refund' then 'refunded' end,
    client_event_id => format('offer:%s:%s', o.id, n),
    payload => jsonb_strip_nulls(jsonb_build_object(
      'offer_id', o.id, 'campaign_id', o.campaign_id, 'artist_id', o.artist_id, 'from_state', from_state,
      'amount_minor', o.amount_minor, 'currency', o.currency,
      'payment_id', case when action in ('pay', 'refund') then o.payment_id end,
      'actor_id', me, 'reason', reason)),
    source => 'companon');
  insert into companon.offer_transitions as t
    (offer_id, campaign_id, brand_id, artist_id, action, from_state, to_state, actor, actor_id, reason, passport_entry_id)
  values (o.id, o.campaign_id, o.brand_id, o.artist_id, action, from_state, o.state, actor, me, reason, entry)
  returning t.id into new_id;
  perform companon_private.notify_offer(o, action);
  return new_id;
end
$$;
