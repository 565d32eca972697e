-- The signed-in user's badges, newest first, with the Passport entries that
-- logged and earned each.
create or replace function people.my_badges()
returns table (
  award_id bigint,
  code text,
  title text,
  description text,
  image text,
  artist_id uuid,
  period_start date,
  awarded_at timestamptz,
  entry_id bigint,
  earned_by_entry_id bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if auth.uid() is null then
    raise exception using errcode = '42501', message = 'sign in to read your badges';
  end if;
  return query
  select a.id, b.code, b.title, b.description, b.image, a.artist_id, a.period_start, a.awarded_at, a.entry_id,
         a.earned_by_entry_id
  from people.badge_awards as a
  join people.badges as b on b.id = a.badge_id
  where a.user_id = auth.uid()
  order by a.awarded_at desc, a.id desc;
end
$$;

comment on function people.my_badges() is
  'The signed-in user''s badges, newest first (42501 without a user).';

grant execute on function people.my_badges() to authenticated;
