create or replace function concierto.publish_event(event_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  ev concierto.events := concierto_private.host_event(publish_event.event_id, 'publishes it');
  waiting text;
  t concierto.ticket_tiers;
begin
  perform concierto_private.require_state(ev, array['draft'], 'publication');
  select string_agg(format('%s (%s)', a.artist_id, a.state), ', ' order by a.position) into waiting
  from concierto.event_artists as a where a.event_id = ev.id and a.state <> 'accepted';
  if not exists (select 1 from concierto.event_artists as a where a.event_id = ev.id) then
    raise exception using errcode = '55000', detail = 'lineup_empty',
      message = format('event %s has no lineup: invite at least one artist', ev.id);
  elsif waiting is not null then
    raise exception using errcode = '55000', detail = 'lineup_pending',
      message = format('event %s goes on sale once its whole lineup accepted; not yet: %s', ev.id, waiting);
  elsif ev.split_host_bp + ev.split_artists_bp + ev.split_platform_bp <> 10000 then
    raise exception using errcode = '55000', detail = 'split_incomplete',
      message = format('the split of event %s sums to %s basis points (host %s, lineup %s, platform %s), not 10000', ev.id,
                       ev.split_host_bp + ev.split_artists_bp + ev.split_platform_bp, ev.split_host_bp,
                       ev.split_artists_bp, ev.split_platform_bp),
      hint = 'Change the host''s or the artists'' shares with concierto.set_lineup.';
  elsif ev.rsvp_capacity is null
        and not exists (select 1 from concierto.ticket_tiers as x where x.event_id = ev.id and x.removed_at is null) then
    raise exception using errcode = '55000', detail = 'nothing_to_sell',
      message = format('event %s has no ticket tier and takes no RSVPs', ev.id),
      hint = 'Create a tier (concierto.create_tier) or set rsvp_capacity (concierto.update_event).';
  elsif ev.starts_at <= now() then
    raise exception using errcode = '55000', detail = 'event_started',
      message = format('event %s started at %s', ev.id, ev.starts_at);
  end if;

  update concierto.events as e set state = 'published', published_at = now(), takes_applications = false, updated_at = now()
  where e.id = ev.id
  returning * into ev;
  for t in select * from concierto.ticket_tiers as x where x.event_id = ev.id and x.product_id is null order by x.created_at loop
    update concierto.ticket_tiers as x set product_id = concierto_private.tier_product(ev, t.name, t.price_minor)
    where x.id = t.id;
  end loop;
  update concierto.artist_applications as p set state = 'declined', decided_at = now()
  where p.event_id = ev.id and p.state = 'applied';
  perform passport.log(concierto_private.host_actor(ev), 'concierto.event_published', 'concierto:event:' || ev.id || ':published',
    jsonb_build_object('event_id', ev.id, 'city', ev.city, 'country', ev.country), null, now(), 'concierto');
  return concierto_private.lineup_json(ev.id);
end
$$;

comment on function concierto.publish_event(uuid) is
  'The host puts a draft on sale: every lineup artist accepted and the split sums to 10000 basis points (55000 '
  'DETAIL lineup_empty, lineup_pending, split_incomplete, nothing_to_sell, event_started otherwise). Creates the '
  'Treasury product and split rule of every tier, closes the open call (pending applications are declined) and '
  'returns the split and lineup. 42501 not the host; 55000 DETAIL event_published / event_cancelled.';

grant execute on function concierto.publish_event(uuid) to authenticated, service_role;
