# The commands that run the stack as a whole: up, down, reset and the status up prints; psql and logs
# to look inside it.
# shellcheck shell=bash

print_status() {
  local name state
  for name in main hosted; do
    if cluster_running "$name"; then state="running"; else state="stopped"; fi
    printf 'stack:   %-9s %-55s %s\n' "$name" "$(db_url "$name")" "$state" >&2
  done
  if pooler_running; then state="running"; else state="stopped"; fi
  printf 'stack:   %-9s %-55s %s\n' pooler "$(pooler_url)" "$state" >&2
  if gateway_running; then state="running"; else state="stopped"; fi
  printf 'stack:   %-9s %-55s %s\n' gateway "http://127.0.0.1:$GATEWAY_PORT/functions/v1/<name>" "$state" >&2
  if workers_running; then state="running"; else state="stopped"; fi
  printf 'stack:   %-9s %-55s %s\n' worker "http://127.0.0.1:$WORKERS_PORT/functions/v1/<name>" "$state" >&2
  if standins_running; then state="running"; else state="stopped"; fi
  printf 'stack:   %-9s %-55s %s\n' stripe "http://127.0.0.1:$STRIPE_STANDIN_PORT (stand-in)" "$state" >&2
  printf 'stack:   %-9s %-55s %s\n' resend "http://127.0.0.1:$RESEND_STANDIN_PORT (stand-in)" "$state" >&2
  printf 'stack:   functions: %s\n' "$(function_names | paste -sd ' ' -)" >&2
  # shellcheck disable=SC2016 # printed for the reader to run
  printf 'stack:   logs: .stack/logs (./stack logs); variables: eval "$(./stack env)"\n' >&2
}

cmd_up() {
  local start
  start=$(now_us)
  cmd_setup
  cmd_build
  pg_state >/dev/null
  start_cluster main
  start_cluster hosted
  prepare_database main
  prepare_database hosted
  start_pooler
  start_standins
  start_gateway
  start_workers
  log "up: the local stack is ready ($(since "$start"))"
  print_status
}

cmd_down() {
  pg_state >/dev/null
  stop_workers
  stop_gateway
  stop_standins
  stop_pooler
  stop_cluster main
  stop_cluster hosted
  log "down: everything is stopped (data is kept; ./stack reset discards it)"
}

cmd_reset() {
  cmd_down
  log "reset: removing the cluster data under $(pg_state)"
  rm -rf "$(cluster_dir main)" "$(cluster_dir hosted)"
  cmd_up
}

cmd_psql() {
  local name=main
  if [[ ${1:-} == --hosted ]]; then
    name=hosted
    shift
  fi
  cmd_setup --quiet
  pg_state >/dev/null
  cluster_running "$name" || die "the $name cluster is not running" "start the stack with ./stack up"
  exec "$PG_BIN/psql" "$(db_url "$name")" "$@"
}

cmd_logs() {
  mkdir -p "$LOGS"
  local files
  mapfile -t files < <(find "$LOGS" -name '*.log' -type f | LC_ALL=C sort)
  ((${#files[@]} > 0)) || die "no logs yet" "start the stack with ./stack up"
  if [[ ${1:-} == -f ]]; then
    exec tail -n 20 -F "${files[@]}"
  fi
  tail -n 30 "${files[@]}"
}
