-- The signed-in user's history, newest first. Filters: kinds (null = all),
-- occurred_at in [from_at, to_at), artist. Keyset pagination: pass the last
-- row's occurred_at and id as before_occurred_at and before_id to get the next
-- page. Security invoker: RLS decides what the caller may read.
create or replace function passport.timeline(
  kinds text[] default null,
  from_at timestamptz default null,
  to_at timestamptz default null,
  artist uuid default null,
  page_size int default 50,
  before_occurred_at timestamptz default null,
  before_id bigint default null
)
returns table (
  id bigint,
  kind text,
  artist_id uuid,
  payload jsonb,
  occurred_at timestamptz,
  received_at timestamptz,
  source text
)
language plpgsql
stable
-- Plan each call with its own arguments, so that the filters left null drop
-- out and the keyset condition becomes an index bound.
set plan_cache_mode = force_custom_plan
as $$
declare
  reader uuid := auth.uid();
begin
  if reader is null then
    raise exception using
      errcode = '42501',
      message = 'sign in to read a timeline',
      hint = 'Call with a user''s access token.';
  end if;
  if page_size is null or page_size not between 1 and 200 then
    raise exception using
      errcode = '22023',
      message = format('page_size must be between 1 and 200, got %s', coalesce(page_size::text, 'null'));
  end if;
  if (before_occurred_at is null) <> (before_id is null) then
    raise exception using
      errcode = '22023',
      message = 'before_occurred_at and before_id go together',
      hint = 'Pass both from the last row of the previous page, or neither for the first page.';
  end if;

  return query
    select e.id, e.kind, e.artist_id, e.payload, e.occurred_at, e.received_at, e.source
    from public.passport_entries as e
    where e.user_id = reader
      and (kinds is null or e.kind = any (kinds))
      and (from_at is null or e.occurred_at >= from_at)
      and (to_at is null or e.occurred_at < to_at)
      and (artist is null or e.artist_id = artist)
      and (before_id is null or (e.occurred_at, e.id) < (before_occurred_at, before_id))
    order by e.occurred_at desc, e.id desc
    limit page_size;
end
$$;

comment on function passport.timeline(text[], timestamptz, timestamptz, uuid, int, timestamptz, bigint) is
  'The caller''s own Passport entries, newest first, filtered and keyset-paginated (page_size 1..200).';

grant execute on function passport.timeline(text[], timestamptz, timestamptz, uuid, int, timestamptz, bigint)
  to anon, authenticated, service_role;
