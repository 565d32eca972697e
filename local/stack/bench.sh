# bench, demo: Deno scripts (tests/bench/<name>.ts, tests/demo/main.ts) driven through the running
# stack, after up.
# shellcheck shell=bash

# The benchmarks: tests/bench/<name>.ts, one name per line, sorted.
bench_names() {
  find tests/bench -maxdepth 1 -name '*.ts' -printf '%f\n' 2>/dev/null | sed 's/\.ts$//' | LC_ALL=C sort
}

cmd_bench() {
  local names=("$@") name
  if ((${#names[@]} == 0)); then mapfile -t names < <(bench_names); fi
  for name in "${names[@]}"; do
    [[ -f tests/bench/$name.ts ]] || die "no benchmark named $name" "choose one of: $(bench_names | tr '\n' ' ')"
  done
  ((${#names[@]} > 0)) || die "no benchmarks in tests/bench"
  RECREATE_STALE_DATABASES=1
  cmd_up
  load_env
  for name in "${names[@]}"; do
    step "bench: $name" "$DENO" run --allow-all "tests/bench/$name.ts"
  done
}

cmd_demo() {
  [[ -f tests/demo/main.ts ]] || die "tests/demo/main.ts is missing"
  # shellcheck disable=SC2034 # read by prepare_database (clusters.sh)
  RECREATE_STALE_DATABASES=1
  cmd_up
  load_env
  "$DENO" run --allow-all tests/demo/main.ts "$@"
}
