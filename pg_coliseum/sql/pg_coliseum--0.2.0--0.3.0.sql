-- pg_coliseum 0.2.0 -> 0.3.0: Companon's DNA matching (buckets_core/src/companon/matching.rs).
-- Released upgrade scripts are never edited: a later change is a new script.
-- `cargo pgrx install` copies this file next to pg_coliseum--0.3.0.sql; the migration
-- 20261203081000_companon_matching_math.sql runs `alter extension pg_coliseum update` where the
-- extension is installed. The definitions are those `cargo pgrx schema` generates for 0.3.0.

-- pg_coliseum::matching::dna_dimensions
CREATE FUNCTION "dna_dimensions"() RETURNS TABLE (
	"dimension" INT,  /* i32 */
	"domain" TEXT,  /* & '_ str */
	"component" TEXT,  /* & '_ str */
	"scale" TEXT,  /* & '_ str */
	"cap" double precision  /* Option < f64 > */
)
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'dna_dimensions_wrapper';

-- pg_coliseum::matching::dna_drivers
CREATE FUNCTION "dna_drivers"(
	"target" double precision[], /* Array < '_, f64 > */
	"dna" double precision[], /* Array < '_, f64 > */
	"n" INT /* i32 */
) RETURNS jsonb /* JsonB */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'dna_drivers_wrapper';

-- pg_coliseum::matching::dna_similarity
CREATE FUNCTION "dna_similarity"(
	"target" double precision[], /* Array < '_, f64 > */
	"dna" double precision[] /* Array < '_, f64 > */
) RETURNS double precision /* f64 */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'dna_similarity_wrapper';

-- pg_coliseum::matching::dna_vector
CREATE FUNCTION "dna_vector"(
	"scores" double precision[], /* Array < '_, f64 > */
	"components" jsonb /* JsonB */
) RETURNS double precision[] /* Vec < f64 > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'dna_vector_wrapper';

-- pg_coliseum::matching::target_vector
CREATE FUNCTION "target_vector"(
	"domains" jsonb, /* JsonB */
	"components" jsonb /* JsonB */
) RETURNS double precision[] /* Vec < f64 > */
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'target_vector_wrapper';
