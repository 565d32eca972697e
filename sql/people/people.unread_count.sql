create or replace function people.unread_count()
returns bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('count your notifications');
begin
  return (select count(*) from people.notifications as n where n.user_id = me and n.read_at is null);
end
$$;

comment on function people.unread_count() is
  'How many of the signed-in user''s notifications are unread (the badge on the bell). 42501 without a user.';

grant execute on function people.unread_count() to authenticated;
