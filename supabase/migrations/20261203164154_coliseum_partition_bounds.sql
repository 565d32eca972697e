-- Coliseum processor and partitions (issue 15, goal 2): the processor's reads of the log carry its
-- partition key (docs/coliseum-dna.md, "Reading by partition key"). The fold, the player stats and the
-- badge evaluation take the received_at span of their batch next to its ids, so each reads the months in
-- that span instead of probing every month of passport_entries for each id:
--
--   coliseum_private.fold_entries(bigint[])                 -> (bigint[], timestamptz, timestamptz)
--   coliseum_private.fold_player_stats(bigint[])            -> (bigint[], timestamptz, timestamptz)
--   people_private.evaluate_badges(bigint[], bigint)        -> (bigint[], bigint, timestamptz, timestamptz)
--
-- The new bounds default to -infinity and infinity (every month), so existing calls keep their meaning.
-- A function with defaults next to the old signature would make those calls ambiguous: this step drops the
-- old signatures, and the generated sources step after it (its code lives in sql/coliseum and sql/people,
-- docs/database-sources.md) creates the new ones with coliseum.process_pending and coliseum.rebuild, which
-- call them. Between the two steps a processor's call fails and is retried (nothing is claimed without
-- its fold: one transaction).

drop function coliseum_private.fold_entries(bigint[]);
drop function coliseum_private.fold_player_stats(bigint[]);
drop function people_private.evaluate_badges(bigint[], bigint);
