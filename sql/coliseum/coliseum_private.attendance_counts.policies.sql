alter table coliseum_private.attendance_counts enable row level security;

-- Player stats: written by the processor, read through coliseum.attendance_board only.
revoke all on coliseum_private.attendance_counts from anon, authenticated, service_role;
