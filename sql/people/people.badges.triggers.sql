create or replace trigger guard
  before insert or update on people.badges
  for each row execute function people_private.guard_badges();
