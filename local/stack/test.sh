# test: every tier (or the ones named: ./stack test pgtap e2e), each counted; a failing tier does not stop the others. The summary ends with
# "stack test: N passed, M failed" (on_exit, in common.sh, prints it too when test could not finish).
# shellcheck shell=bash

TESTS_PASSED=0
TESTS_FAILED=0
TIER_RESULTS=()
TEST_SUMMARY_PENDING=""

# Each parser reads a runner's log (and its exit code) and prints "<passed> <failed>".
count_cargo() {
  awk '/^test result: / {
         for (i = 1; i < NF; i++) {
           if ($(i + 1) ~ /^passed;/) passed += $i
           if ($(i + 1) ~ /^failed;/) failed += $i
         }
       }
       END { print passed + 0, failed + 0 }' "$1"
}

# pg_prove: "Files=3, Tests=6, ..." totals the tests that ran; the summary report has a line
# "<file> (Wstat: .. Tests: 2 Failed: 1)" per failing file. A file that died with no failed test
# (a SQL error, a wrong plan) counts as one failure.
count_pg_prove() {
  awk '/^Files=[0-9]+, Tests=[0-9]+/ { split($2, t, "="); tests += t[2] + 0 }
       /\(Wstat: .*Tests: [0-9]+ Failed: [0-9]+\)/ {
         match($0, /Failed: [0-9]+/)
         f = substr($0, RSTART + 8, RLENGTH - 8) + 0
         failed_ran += f
         failed += (f > 0 ? f : 1)
       }
       END { print tests - failed_ran, failed + 0 }' "$1"
}

count_deno() {
  awk '/^(ok|FAILED) \| [0-9]+ passed/ {
         for (i = 1; i < NF; i++) {
           if ($(i + 1) == "passed") passed = $i
           if ($(i + 1) == "failed") failed = $i
         }
       }
       END { print passed + 0, failed + 0 }' "$1"
}

# A check without its own tests counts as one.
count_exit() { if (($2 == 0)); then echo "1 0"; else echo "0 1"; fi; }

# tier <title> <parser> <command...>: runs and counts one tier.
tier() {
  local title=$1 parser=$2 log start rc=0 passed failed
  shift 2
  log=${title,,}
  log=${log//[^a-z0-9]/-}
  while [[ $log == *--* ]]; do log=${log//--/-}; done
  log="$LOGS/test-${log%-}.log"
  start=$(now_us)
  printf '\n=== %s\n' "$title"
  "$@" 2>&1 | tee "$log" || rc=$?
  read -r passed failed < <("$parser" "$log" "$rc")
  # A runner that failed before reporting (a compile error, a crash) still fails the tier.
  if ((rc != 0 && failed == 0)); then failed=1; fi
  TESTS_PASSED=$((TESTS_PASSED + passed))
  TESTS_FAILED=$((TESTS_FAILED + failed))
  TIER_RESULTS+=("$(printf '%-44s %5d passed %4d failed  %s' "$title" "$passed" "$failed" "$(since "$start")")")
  printf '=== %s: %d passed, %d failed (%s; log: %s)\n' "$title" "$passed" "$failed" "$(since "$start")" "${log#"$ROOT"/}"
}

# pgTAP, as `supabase test db` runs it: pgtap enabled for the run (and dropped after when it was
# not there before), every .sql/.pg file under supabase/tests/database through pg_prove.
pg_prove_on() {
  local name=$1 rc=0
  shopt -s nullglob globstar
  local files=(supabase/tests/database/**/*.sql supabase/tests/database/**/*.pg)
  shopt -u nullglob globstar
  if ((${#files[@]} == 0)); then
    echo "no pgTAP test files in supabase/tests/database"
    return 1
  fi
  # The test extensions, as the superuser (neither is trusted), dropped again when they were not there.
  local ext added=()
  for ext in pgtap plpgsql_check; do
    if [[ $(psql_on "$name" -At -c "select count(*) from pg_extension where extname = '$ext'") == 0 ]]; then added+=("$ext"); fi
    psql_on "$name" -c "set client_min_messages = warning" -c "create extension if not exists $ext with schema extensions" || return 1
  done
  PGPASSWORD=$DB_PASSWORD pg_prove -h 127.0.0.1 -p "$(cluster_port "$name")" -U postgres -d postgres \
    --ext .pg --ext .sql -r supabase/tests/database || rc=$?
  for ext in "${added[@]}"; do psql_on "$name" -c "drop extension if exists $ext" || true; done
  return "$rc"
}

# The end-to-end files that run against the Deno host only: outage and limits reach into its processes
# (a killed database seen in the functions' own log; each passport-log instance on its own port), and
# edge_hosts calls both hosts itself.
readonly DENO_HOST_ONLY_E2E=(tests/e2e/outage.test.ts tests/e2e/limits.test.ts tests/e2e/edge_hosts.test.ts)

# deno_e2e <deno|workers>: the end-to-end files against one host of the edge functions.
deno_e2e() {
  local host=$1 file files=()
  if ! compgen -G 'tests/e2e/*.ts' >/dev/null; then
    echo "no end-to-end tests in tests/e2e"
    return 1
  fi
  for file in tests/e2e/*.test.ts; do
    [[ $host == workers && " ${DENO_HOST_ONLY_E2E[*]} " == *" $file "* ]] || files+=("$file")
  done
  BUCKETS_EDGE_HOST=$host "$DENO" test --allow-all "${files[@]}"
}

# The sizes of the smoke run of the benchmarks: every path of every bench, in seconds rather than minutes.
# Nothing is timed against anything (the figures of so short a run mean nothing); what fails is a bench that
# no longer runs, or whose own checks (same answers as the baseline, every event applied, ...) no longer hold.
# Closed loops stop after 16 requests (or half a second), so that a run leaves little behind in tables that keep
# everything: each payment stays in the ledger, and treasury.check_invariants(), which the model test calls after
# each of its steps, reads the whole ledger.
readonly BENCH_SMOKE_ENV=(
  NO_COLOR=1 BENCH_WARMUP_SECONDS=0 BENCH_SECONDS=0.5 BENCH_MAX_REQUESTS=16
  BENCH_FRESHNESS_SECONDS=3 BENCH_FRESHNESS_RATES=500,1000
  BENCH_SPLIT_ROWS=1000 BENCH_EVENTS=500 BENCH_ARTISTS=300 BENCH_TRACKS=200 BENCH_PENDING=500 BENCH_TICKETS=50
  BENCH_RUNS=2 BENCH_BASELINE_RUNS=1 BENCH_READS=3 BENCH_PROCESSOR_RUNS=1 BENCH_N=10
)
# A bench that hangs fails after this long instead of holding the run.
readonly BENCH_SMOKE_TIMEOUT_S=600

# bench_smoke: runs every tests/bench/<name>.ts at the sizes above, its section written to a report in the logs
# (BENCHMARKS.md keeps the figures of real runs). A bench passes when it ends well having written its section.
bench_smoke() {
  local name log start report="$LOGS/bench-smoke.md" rc=0
  rm -f "$report"
  while read -r name; do
    log="$LOGS/bench-smoke-$name.log"
    start=$(now_us)
    if env "${BENCH_SMOKE_ENV[@]}" BENCH_REPORT="$report" timeout "$BENCH_SMOKE_TIMEOUT_S" \
      "$DENO" run --allow-all "tests/bench/$name.ts" >"$log" 2>&1 &&
      grep -qxF "<!-- bench:$name -->" "$report"; then
      echo "bench smoke ok: $name ($(since "$start"))"
    else
      echo "bench smoke FAILED: $name ($(since "$start"); log: ${log#"$ROOT"/}), its last lines:"
      tail -n 40 "$log" | sed 's/^/  /'
      rc=1
    fi
  done < <(bench_names)
  return "$rc"
}

count_bench_smoke() {
  awk '/^bench smoke ok: / { passed++ } /^bench smoke FAILED: / { failed++ } END { print passed + 0, failed + 0 }' "$1"
}

# The tiers by name, for `./stack test <name>...` (all of them without a name).
readonly TEST_TIER_NAMES=(pure pgrx pgtap types differential e2e standins bench lint)

# wanted <name>: whether this run includes that tier.
wanted() {
  ((${#SELECTED_TIERS[@]} == 0)) && return 0
  local t
  for t in "${SELECTED_TIERS[@]}"; do [[ $t == "$1" ]] && return 0; done
  return 1
}

cmd_test() {
  local start pgrx_pgdata name
  SELECTED_TIERS=("$@")
  for name in "${SELECTED_TIERS[@]}"; do
    [[ " ${TEST_TIER_NAMES[*]} " == *" $name "* ]] ||
      die "no test tier named $name" "choose from: ${TEST_TIER_NAMES[*]} (none: every tier)"
  done
  start=$(now_us)
  TEST_SUMMARY_PENDING=1
  # shellcheck disable=SC2034 # read by prepare_database (clusters.sh)
  RECREATE_STALE_DATABASES=1
  # The gateway's every-minute calls of payout-worker, receipts-sender and refund-worker (local/schedule.ts) stay off
  # here: several tests play Stripe by hand for payouts a real worker run would send; the end-to-end
  # tests call the workers as pg_cron does, and tests/standin/schedule.test.ts tests the schedule.
  export STACK_SCHEDULE_S=0
  cmd_up
  load_env
  export CARGO_TERM_COLOR=never STACK_LOCK_HELD=1
  pgrx_pgdata="$(pg_state)/pgrx-test"
  [[ -d $pgrx_pgdata ]] || install -d -o postgres -g postgres -m 700 "$pgrx_pgdata"

  if wanted pure; then tier "1. cargo test (pure crates)" count_cargo cargo test "${PURE_TEST_ARGS[@]}"; fi
  if wanted pgrx; then
    # `cargo pgrx test` copies its own (debug, pg_test) build of pg_coliseum over the installed one, in
    # place: the clusters must not have it loaded meanwhile, and get the release build back after.
    cmd_down
    tier "2. cargo pgrx test (pg_coliseum)" count_cargo cargo pgrx test "${PGRX_TEST_ARGS[@]}" --pgdata "$pgrx_pgdata"
    cmd_up
  fi
  if wanted pgtap; then
    tier "3. pgTAP on the main cluster (extension)" count_pg_prove pg_prove_on main
    tier "3. pgTAP on the hosted-shape cluster (SQL twins)" count_pg_prove pg_prove_on hosted
  fi
  if wanted types; then
    # The app's generated types (supabase/types/database.ts) against each migrated cluster's catalog, then
    # a type check that good calls compile and wrong ones do not (@ts-expect-error), docs/typed-client.md.
    tier "4. app types match the database (main)" count_exit \
      cargo run -q -p buckets_core --bin buckets-codegen -- types --check --db-url "$SUPABASE_DB_URL"
    tier "4. app types match the database (hosted shape)" count_exit \
      cargo run -q -p buckets_core --bin buckets-codegen -- types --check --db-url "$BUCKETS_HOSTED_DB_URL"
    tier "4. app types (deno check, @ts-expect-error)" count_deno "$DENO" test tests/types/
  fi
  if wanted differential; then tier "4. differential tests (cargo, live stack)" count_cargo cargo test -p "$STACK_TEST_PACKAGE"; fi
  if wanted e2e; then
    tier "4. end-to-end tests (Deno host, over HTTP)" count_deno deno_e2e deno
    tier "4. end-to-end tests (Workers host, over HTTP)" count_deno deno_e2e workers
  fi
  if wanted standins; then tier "4. Stripe and Resend stand-ins (deno, own ports)" count_deno "$DENO" test --allow-all tests/standin/; fi
  if wanted bench; then tier "5. every bench at a tiny size (smoke)" count_bench_smoke bench_smoke; fi
  if wanted lint; then
    tier "6. cargo fmt --check" count_exit cargo fmt --all -- --check
    tier "6. cargo clippy -D warnings" count_exit cargo clippy "${CLIPPY_ARGS[@]}"
  fi

  printf '\n=== summary (%s)\n' "$(since "$start")"
  printf '%s\n' "${TIER_RESULTS[@]}"
  printf 'stack test: %d passed, %d failed\n' "$TESTS_PASSED" "$TESTS_FAILED"
  # shellcheck disable=SC2034 # read by on_exit (common.sh)
  TEST_SUMMARY_PENDING=""
  ((TESTS_FAILED == 0))
}
