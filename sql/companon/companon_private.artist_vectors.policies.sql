alter table companon_private.artist_vectors enable row level security;

-- Derived; read only by the matching functions (security definer).
revoke all on companon_private.artist_vectors from anon, authenticated, service_role;
