alter table coliseum.strength_history enable row level security;

grant select on coliseum.strength_history to service_role;
