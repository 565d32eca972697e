-- A page of the signed-in user's inbox, newest first. Keyset pagination: pass the smallest id of the page
-- you have as before_id for the next one (an index range on notifications_user_idx or, unread only,
-- notifications_unread_idx). Only the caller's own rows.
create or replace function people.list_notifications(
  before_id bigint default null, page_size int default 30, unread_only boolean default false)
returns setof people.notifications
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('read your notifications');
begin
  if page_size is null or page_size not between 1 and 100 then
    raise exception using errcode = '22023', message = 'page_size must be 1 to 100';
  end if;
  return query
  select n.* from people.notifications as n
  where n.user_id = me
    and (before_id is null or n.id < before_id)
    and (not coalesce(unread_only, false) or n.read_at is null)
  order by n.id desc
  limit page_size;
end
$$;

comment on function people.list_notifications(bigint, int, boolean) is
  'The signed-in user''s notifications, newest first: page_size (1-100, default 30) rows with id < before_id '
  '(null: the newest), unread only if asked. 22023 bad page_size; 42501 without a signed-in user.';

grant execute on function people.list_notifications(bigint, int, boolean) to authenticated;
