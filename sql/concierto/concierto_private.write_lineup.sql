-- Replaces an event's lineup with a checked one ([{"artist_id", "share_bp"}]
-- in billing order). An artist whose billing or share is new or changed is
-- (re)invited: state invited, revision + 1, told with an event.lineup
-- notification; an unchanged artist keeps their answer; a removed one is told.
-- split_artists_bp becomes the sum of the shares.
create or replace function concierto_private.write_lineup(ev concierto.events, lineup jsonb)
returns void
language plpgsql
volatile
as $$
declare
  before jsonb;
  n record;
  o concierto.event_artists;
  changed boolean;
  line concierto.event_artists;
begin
  select coalesce(jsonb_agg(to_jsonb(a)), '[]') into before from concierto.event_artists as a where a.event_id = ev.id;
  delete from concierto.event_artists as a where a.event_id = ev.id;

  for n in
    select (x ->> 'artist_id')::uuid as artist_id, (x ->> 'share_bp')::int as share_bp, i::smallint as position
    from jsonb_array_elements(lineup) with ordinality as l(x, i)
    order by i
  loop
    o := null;
    select * into o from jsonb_populate_recordset(null::concierto.event_artists, before) as p where p.artist_id = n.artist_id;
    changed := o.artist_id is null or o.position <> n.position or o.share_bp <> n.share_bp;
    insert into concierto.event_artists as a (event_id, artist_id, position, share_bp, state, revision, invited_at, responded_at)
    values (ev.id, n.artist_id, n.position, n.share_bp,
            case when changed then 'invited' else o.state end,
            case when o.artist_id is null then 1 when changed then o.revision + 1 else o.revision end,
            case when changed then now() else o.invited_at end,
            case when changed then null else o.responded_at end)
    returning * into line;
    if changed then
      perform people_private.notify(
        line.artist_id, 'event.lineup',
        case when o.artist_id is null then format('You are invited to play %s', ev.title)
             else format('Your billing on %s changed', ev.title) end,
        format('Position %s, %s basis points of the ticket revenue, %s in %s. Accept or decline in the app.',
               line.position, line.share_bp, to_char(ev.starts_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), ev.city),
        jsonb_build_object('event_id', ev.id, 'position', line.position, 'share_bp', line.share_bp,
                           'revision', line.revision, 'state', line.state),
        format('concierto:lineup:%s:%s:%s', ev.id, line.artist_id, line.revision));
    end if;
  end loop;

  for o in
    select * from jsonb_populate_recordset(null::concierto.event_artists, before) as p
    where not exists (select 1 from concierto.event_artists as a where a.event_id = ev.id and a.artist_id = p.artist_id)
  loop
    perform people_private.notify(
      o.artist_id, 'event.lineup', format('You are no longer on the lineup of %s', ev.title), null,
      jsonb_build_object('event_id', ev.id, 'state', 'removed'),
      format('concierto:lineup:%s:%s:%s:removed', ev.id, o.artist_id, o.revision));
  end loop;

  update concierto.events as e
  set split_artists_bp = (select coalesce(sum(a.share_bp), 0) from concierto.event_artists as a where a.event_id = ev.id),
      updated_at = now()
  where e.id = ev.id;
end
$$;
