drop trigger if exists split_rules_complete on treasury.split_rules;
create constraint trigger split_rules_complete
  after insert on treasury.split_rules
  deferrable initially deferred
  for each row execute function treasury_private.check_split_rule();
