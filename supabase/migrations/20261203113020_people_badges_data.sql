-- Badges (issue 14): the starter catalogue, one badge of each rule shape, inactive. An admin makes each
-- live with people.activate_badge, which first awards it over the history (docs/badges.md). A step of its
-- own after 20261203113010_people_badges_code.sql, so that the trigger there checks these rules too.

insert into people.badges (code, title, description, image, rule) values
  ('first_ticket', 'First ticket', 'You bought your first ticket to a live event.', null,
   '{"type": "count", "kinds": ["concierto.ticket_purchased"], "at_least": 1}'),
  ('plays.100', '100 plays', 'You played this artist 100 times (plays that counted: 30 seconds or more, no repeats).',
   null, '{"type": "count", "kinds": ["audio.play"], "per": "artist", "at_least": 100, "counted": true}'),
  ('early_supporter', 'Early supporter', 'You were among the first 100 followers of this artist.', null,
   '{"type": "early", "kinds": ["social.follow"], "per": "artist", "within_first": 100}'),
  ('top_fan.month', 'Top fan of the month', 'You brought this artist more than any other fan this month.', null,
   '{"type": "rank", "metric": "units", "per": "artist", "period": "month", "top": 1}')
on conflict (code) do nothing;
