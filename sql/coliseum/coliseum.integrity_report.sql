-- The artists most likely to be gamed, for admins: the suspicion signals of
-- the last refresh (coliseum_private.artist_signals), most suspicious first,
-- with each artist's top fans of the last 7 days and whether an admin holds
-- it off the boards now (coliseum.hold_artist). Treasury admins
-- (treasury.admins) and privileged roles (service_role) only.
create or replace function coliseum.integrity_report(max_artists int default 50, min_suspicion double precision default 0)
returns table (
  artist_id uuid,
  suspicion double precision,
  top_fan_share double precision,
  velocity double precision,
  new_account_share double precision,
  entries_24h bigint,
  daily_mean_28d double precision,
  entries_7d bigint,
  fans_7d bigint,
  units_7d bigint,
  top_fan_id uuid,
  top_fans jsonb,
  held boolean,
  as_of timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not treasury_private.caller_is_staff() then
    raise exception using errcode = '42501', message = 'coliseum.integrity_report is for admins',
      hint = 'Sign in as a Treasury admin (treasury.admins) or call it as service_role.';
  end if;
  if max_artists is null or max_artists < 1 then
    raise exception using errcode = '22023',
      message = format('max_artists must be at least 1, got %s', coalesce(max_artists::text, 'null'));
  end if;
  return query
    select
      s.artist_id, s.suspicion, s.top_fan_share, s.velocity, s.new_account_share, s.entries_24h, s.daily_mean_28d,
      s.entries_7d, s.fans_7d, s.units_7d, s.top_fan_id, s.top_fans,
      exists (select from coliseum.artist_holds as h where h.artist_id = s.artist_id and h.released_at is null),
      s.as_of
    from coliseum_private.artist_signals as s
    where s.suspicion >= coalesce(min_suspicion, 0)
    order by s.suspicion desc, s.entries_24h desc, s.artist_id
    limit max_artists;
end
$$;

comment on function coliseum.integrity_report(int, double precision) is
  'Admins: artists ordered by suspicion (top fan share, velocity, new-account share) with their top fans.';

grant execute on function coliseum.integrity_report(int, double precision) to authenticated, service_role;
