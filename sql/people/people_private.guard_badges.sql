-- Every badge row carries a rule the processor can evaluate; once a badge was
-- activated its awards and progress were computed under its rule and code, so
-- those stay as they are (a new rule is a new badge).
create or replace function people_private.guard_badges()
returns trigger
language plpgsql
as $$
begin
  if tg_op = 'INSERT' or new.rule is distinct from old.rule then
    perform people_private.check_badge_rule(new.rule);
  end if;
  if tg_op = 'UPDATE' and old.activated_at is not null
     and (new.rule is distinct from old.rule or new.code is distinct from old.code) then
    raise exception using
      errcode = '55000',
      message = format('badge %s was activated: its rule and code cannot change', old.code),
      hint = 'Create a badge with the new rule (people.put_badge) and deactivate this one (people.deactivate_badge).';
  end if;
  new.updated_at := now();
  return new;
end
$$;

comment on function people_private.guard_badges() is
  'Trigger of people.badges: checks the rule (people_private.check_badge_rule) and keeps the rule and code of an '
  'activated badge.';
