drop trigger if exists balance_deltas_flush on treasury_private.balance_deltas;
create constraint trigger balance_deltas_flush
  after insert on treasury_private.balance_deltas
  deferrable initially deferred
  for each row execute function treasury_private.flush_balance_deltas();
