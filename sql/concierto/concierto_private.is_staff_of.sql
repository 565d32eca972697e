-- Whether a user may work the door of a host's events: the host, or staff.
create or replace function concierto_private.is_staff_of(host uuid, who uuid)
returns boolean
language sql
stable
as $$
  select who is not null
     and (who = host or exists (select 1 from concierto.staff as s where s.host_id = host and s.user_id = who))
$$;
