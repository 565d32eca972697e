alter table people.role_requests enable row level security;

-- A user reads their own requests; admins read every request (their review queue). Changes go through
-- people.request_role and people.review_role_request.
grant select on people.role_requests to authenticated, service_role;

drop policy if exists role_requests_own_or_admin on people.role_requests;
create policy role_requests_own_or_admin on people.role_requests
  for select to authenticated
  using (user_id = (select auth.uid()) or (select treasury.is_admin()));
