-- Tells the people an offer's transition concerns (o: the row as it is now), in the caller's transaction,
-- kind campaign.offer: the artist when a brand makes, withdraws or pays an offer; the brand's owners and
-- managers when the artist accepts or declines it or the payment is refunded; both when it expires. Each
-- (offer, action) is told once (dedupe key offer:<id>:<action>).
create or replace function companon_private.notify_offer(o companon.offers, action text)
returns void
language plpgsql
volatile
as $$
declare
  brand text := (select b.name from companon.brands as b where b.id = o.brand_id);
  artist text := coalesce((select c.display_name from people_private.cards(array[o.artist_id]) as c), 'The artist');
  payload jsonb := jsonb_build_object('offer_id', o.id, 'campaign_id', o.campaign_id, 'brand_id', o.brand_id,
                                      'artist_id', o.artist_id, 'action', action, 'state', o.state,
                                      'amount_minor', o.amount_minor, 'currency', o.currency);
  to_artist text := case action
    when 'create' then format('%s made you an offer', brand)
    when 'withdraw' then format('%s withdrew their offer', brand)
    when 'pay' then format('%s paid for your offer', brand)
    when 'expire' then format('The offer from %s expired', brand) end;
  to_brand text := case action
    when 'accept' then format('%s accepted your offer', artist)
    when 'decline' then format('%s declined your offer', artist)
    when 'refund' then format('The payment of your offer to %s was refunded', artist)
    when 'expire' then format('Your offer to %s expired', artist) end;
  member uuid;
begin
  if to_artist is not null then
    perform people_private.notify(o.artist_id, 'campaign.offer', left(to_artist, 200), null, payload,
                                  'offer:' || o.id || ':' || action);
  end if;
  if to_brand is not null then
    for member in
      select m.user_id from companon.brand_members as m
      where m.brand_id = o.brand_id and m.role in ('owner', 'manager') and m.user_id <> o.artist_id
      order by m.user_id
    loop
      perform people_private.notify(member, 'campaign.offer', left(to_brand, 200), null, payload,
                                    'offer:' || o.id || ':' || action);
    end loop;
  end if;
end
$$;

comment on function companon_private.notify_offer(companon.offers, text) is
  'Notifies (campaign.offer) the artist of a made, withdrawn, paid or expired offer and the brand''s owners '
  'and managers of an accepted, declined, refunded or expired one; once per (offer, action).';
