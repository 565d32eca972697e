-- treasury_private.payee_trace returns its one row as a set (returns table), so that the statements that
-- call it from FROM (treasury.check_payout_invariants once per payee, treasury.held_payouts once per held
-- payout) have its query inlined and planned once, instead of parsed and planned on every call. Postgres
-- cannot change a function's return type in place: the old one is dropped here. Nothing else refers to it
-- but function bodies, which look it up when they run.
-- Code: the generated `…_sources.sql` after this step creates it again.

drop function treasury_private.payee_trace(uuid, text);
