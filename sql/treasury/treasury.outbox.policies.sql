-- The outbox holds addresses and is plumbing: only service_role (the sender,
-- which bypasses row level security) reads it, through the claim functions.
-- People read their receipts through treasury.receipt.
alter table treasury.outbox enable row level security;

grant select on treasury.outbox
  to service_role;
