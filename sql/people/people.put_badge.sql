-- Creates a badge (inactive: nothing is evaluated until people.activate_badge)
-- or changes one: title, description and image always, the rule only until the
-- badge is first activated.
create or replace function people.put_badge(
  code text,
  title text,
  description text,
  rule jsonb,
  image text default null)
returns people.badges
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  badge people.badges;
begin
  perform people_private.require_badge_admin();
  if code is null or code !~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$' or char_length(code) > 64 then
    raise exception using errcode = '22023',
      message = format('badge code must be 1 to 64 lowercase letters, digits, _ and dots, got %s', coalesce(code, 'null')),
      hint = 'For example first_ticket or plays.100.';
  end if;
  if title is null or char_length(btrim(title)) not between 1 and 100 then
    raise exception using errcode = '22023', message = 'badge title must be a text of 1 to 100 characters';
  end if;
  if description is null or char_length(btrim(description)) not between 1 and 500 then
    raise exception using errcode = '22023', message = 'badge description must be a text of 1 to 500 characters';
  end if;
  if image is not null and char_length(image) not between 1 and 2000 then
    raise exception using errcode = '22023', message = 'badge image must be a text of 1 to 2000 characters';
  end if;
  insert into people.badges as b (code, title, description, rule, image)
  values (put_badge.code, btrim(put_badge.title), btrim(put_badge.description), put_badge.rule, put_badge.image)
  on conflict on constraint badges_code_key do update set
    title = excluded.title, description = excluded.description, rule = excluded.rule, image = excluded.image
  returning * into badge;
  return badge;
end
$$;

comment on function people.put_badge(text, text, text, jsonb, text) is
  'Admins: creates a badge (inactive) or changes its title, description, image and, until it is first activated, '
  'its rule. 22023 for a bad argument or rule (docs/badges.md, "Rules"), 55000 for a new rule of an activated '
  'badge, 42501 for a caller who is no admin.';

grant execute on function people.put_badge(text, text, text, jsonb, text) to authenticated, service_role;
