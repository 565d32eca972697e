-- The API roles may look into the system schemas; what they may do there is
-- granted object by object. The _private schemas get no grant at all, so
-- their functions run only inside security definer functions and jobs.
grant usage on schema passport, coliseum, treasury, concierto, companon, people
  to anon, authenticated, service_role;

-- Postgres lets every role execute a new function unless told otherwise, and
-- per-schema default privileges can only add to the global ones, never take
-- away. So the default is turned off globally for functions this role
-- creates, and turned back on for `public` and `extensions`, where Supabase's
-- convention (and tools such as pgTAP) expect it. In the system schemas every
-- function therefore carries the grants its source file gives it, and no more.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public grant execute on functions to public;
alter default privileges in schema extensions grant execute on functions to public;
