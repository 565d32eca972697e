-- Marks the signed-in user's notifications read: the ids given, or all of them (null). Ids of other users'
-- notifications and ids already read are skipped.
create or replace function people.mark_read(ids bigint[] default null)
returns int
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := concierto_private.signed_in('mark your notifications read');
  marked int;
begin
  if cardinality(ids) > 1000 then
    raise exception using errcode = '22023', message = format('at most 1000 ids per call, got %s', cardinality(ids));
  end if;
  update people.notifications as n set read_at = now()
  where n.user_id = me and n.read_at is null and (ids is null or n.id = any (ids));
  get diagnostics marked = row_count;
  return marked;
end
$$;

comment on function people.mark_read(bigint[]) is
  'Marks the signed-in user''s notifications read: the ids given (at most 1000), or every unread one when ids '
  'is null. Returns how many were marked. 22023 too many ids; 42501 without a signed-in user.';

grant execute on function people.mark_read(bigint[]) to authenticated;
