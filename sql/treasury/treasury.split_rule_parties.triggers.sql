drop trigger if exists split_rule_parties_sum on treasury.split_rule_parties;
create constraint trigger split_rule_parties_sum
  after insert or update or delete on treasury.split_rule_parties
  deferrable initially deferred
  for each row execute function treasury_private.check_split_rule();
