-- pg_coliseum 0.1.0 -> 0.2.0: the counting rules (buckets_core/src/coliseum/counting.rs).
-- Released upgrade scripts are never edited: a later change is a new script.
-- `cargo pgrx install` copies this file next to pg_coliseum--0.2.0.sql; the migration
-- 20261202154055_coliseum_counting_math.sql runs `alter extension pg_coliseum update` where the
-- extension is installed. The definitions are those `cargo pgrx schema` generates for 0.2.0.

-- pg_coliseum::play_counts
CREATE FUNCTION "play_counts"(
	"slot_rank" bigint /* i64 */
) RETURNS bool /* bool */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'play_counts_wrapper';

-- pg_coliseum::play_slot
CREATE FUNCTION "play_slot"(
	"occurred_at" timestamp with time zone /* TimestampWithTimeZone */
) RETURNS bigint /* i64 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'play_slot_wrapper';

-- pg_coliseum::play_units
CREATE FUNCTION "play_units"(
	"tier" smallint, /* i16 */
	"day_rank" bigint /* i64 */
) RETURNS bigint /* i64 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'play_units_wrapper';
