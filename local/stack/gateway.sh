# The functions gateway (local/gateway.ts under Deno: start, stop, health, what restarts it) and the
# environment: the export lines of ./stack env, the local tokens, what every Deno process needs.
# shellcheck shell=bash

# ---------------------------------------------------------------------------------------------------
# The functions gateway

gateway_pid() { [[ -f $STATE/gateway.pid ]] && cat "$STATE/gateway.pid"; }

# Running, and really ours: a stale pid file may name an unrelated process by now.
gateway_running() {
  local pid
  pid=$(gateway_pid) || return 1
  process_alive "$pid" && [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *local/gateway.ts* ]]
}

# Everything the served functions are made of, their secrets included, and how ./stack starts them
# (the code of start_gateway and of the environment it passes): a change restarts them, so tests never
# hit stale code.
functions_fingerprint() {
  printf '%s\n' "$(tree_hash supabase/functions supabase/config.toml local/gateway.ts local/jwt.ts local/schedule.ts package-lock.json)" \
    "$(code_hash start_gateway load_env env_lines deno_network_env)" \
    "$LOCAL_JWT_SECRET" "$STRIPE_SIGNING_SECRET" "$LOCAL_TICKET_SIGNING_KEY" "$(file_hash "$(auth_keys_file)" 2>/dev/null)" \
    "$STRIPE_STANDIN_PORT $RESEND_STANDIN_PORT $LOCAL_STRIPE_SECRET_KEY $LOCAL_RESEND_API_KEY $LOCAL_APP_URL $LOCAL_RECEIPTS_FROM" \
    "${DENO_DIR:-}" "schedule ${STACK_SCHEDULE_S:-60}" "instances ${STACK_FUNCTION_INSTANCES:-2}" | sha256sum | cut -c1-64
}

gateway_health() { http_get "$GATEWAY_PORT" /_stack/health | tail -n 1; }

stop_gateway() {
  local pid
  pid=$(gateway_pid) || return 0
  if gateway_running; then
    log "down: stop the functions gateway (pid $pid) and its functions"
    # The gateway leads its own process group; the functions are in it.
    terminate "$pid" "-$pid"
  fi
  rm -f "$STATE/gateway.pid" "$STATE/gateway.sha256"
}

start_gateway() {
  local want pid health start
  want=$(functions_fingerprint)
  if gateway_running; then
    if [[ $(cat "$STATE/gateway.sha256" 2>/dev/null) == "$want" && $(gateway_health) == *'"status":"ok"'* ]]; then
      return
    fi
    log "up: the functions changed since the gateway started (or one is down): restarting it"
    stop_gateway
  fi
  wait_for_free_port "$GATEWAY_PORT" "the functions gateway" "supabase start? another checkout: ./stack down there"
  mkdir -p "$LOGS/functions"
  start=$(now_us)
  CURRENT_STEP="up: start the functions gateway"
  log "$CURRENT_STEP on 127.0.0.1:$GATEWAY_PORT ..."
  (
    load_env
    export STACK_GATEWAY_PORT=$GATEWAY_PORT STACK_FUNCTION_LOG_DIR="$LOGS/functions"
    exec >>"$LOGS/gateway.log" 2>&1 </dev/null
    close_inherited_fds
    exec setsid "$DENO" run --allow-net=127.0.0.1 --allow-read --allow-env --allow-run \
      --allow-write="$LOGS" local/gateway.ts
  ) &
  pid=$!
  echo "$pid" >"$STATE/gateway.pid"
  for _ in $(seq 600); do
    process_alive "$pid" || die "the functions gateway exited while starting" "read $LOGS/gateway.log (./stack logs)"
    health=$(gateway_health || true)
    case $health in
      *'"status":"ok"'*) break ;;
      *'"status":"failed"'*)
        die "an edge function failed to start: $health" "read its log under $LOGS/functions/, fix it, then re-run ./stack up"
        ;;
    esac
    sleep 0.1
  done
  [[ $health == *'"status":"ok"'* ]] || die "the functions gateway did not become healthy in 60s" "read $LOGS/gateway.log"
  echo "$want" >"$STATE/gateway.sha256"
  log "$CURRENT_STEP: done in $(since "$start")"
  CURRENT_STEP=""
}

function_names() {
  local dir
  for dir in supabase/functions/*/; do
    dir=$(basename "$dir")
    [[ $dir == _* || $dir == '*' ]] || echo "$dir"
  done
}

# ---------------------------------------------------------------------------------------------------
# Environment

# The local auth's signing keys (private JWKs), made once per checkout by local/jwt.ts.
auth_keys_file() { echo "$STATE/auth/signing-keys.json"; }

# The export lines of ./stack env. Tokens are minted by local/jwt.ts once and cached.
env_lines() {
  local cache="$STATE/tokens.env" key
  token_cache_key() {
    echo "# $(file_hash local/jwt.ts) $(printf '%s' "$LOCAL_JWT_SECRET" | sha256sum | cut -c1-64) $(file_hash "$(auth_keys_file)" 2>/dev/null)"
  }
  key=$(token_cache_key)
  if [[ ! -f $cache || $(head -n 1 "$cache") != "$key" ]]; then
    local tokens
    tokens=$(STACK_AUTH_KEYS=$(auth_keys_file) SUPABASE_JWT_SECRET=$LOCAL_JWT_SECRET NO_COLOR=1 \
      "$DENO" run --allow-env --allow-read --allow-write="$STATE/auth" local/jwt.ts env) ||
      die "local/jwt.ts could not mint the local tokens" "its error is above"
    printf '%s\n%s\n' "$(token_cache_key)" "$tokens" >"$cache"
  fi
  printf 'export %s=%q\n' \
    SUPABASE_URL "http://127.0.0.1:$GATEWAY_PORT" \
    SUPABASE_DB_URL "$(db_url main)" \
    BUCKETS_DB_URL "$(pooler_url)" \
    STACK_PORT_OFFSET "$((10#$PORT_OFFSET))" \
    BUCKETS_HOSTED_DB_URL "$(db_url hosted)" \
    BUCKETS_HOSTED_ADMIN_DB_URL "$(admin_db_url hosted)" \
    BUCKETS_MAIN_PGDATA "$(cluster_data main)" \
    SUPABASE_JWT_SECRET "$LOCAL_JWT_SECRET" \
    JWT_SECRET "$LOCAL_JWT_SECRET" \
    STACK_AUTH_KEYS "$(auth_keys_file)" \
    STRIPE_WEBHOOK_SECRET "$STRIPE_SIGNING_SECRET" \
    TICKET_SIGNING_KEY "$LOCAL_TICKET_SIGNING_KEY" \
    TICKET_PUBLIC_KEY "$LOCAL_TICKET_PUBLIC_KEY" \
    STRIPE_API_BASE "http://127.0.0.1:$STRIPE_STANDIN_PORT" \
    STRIPE_SECRET_KEY "$LOCAL_STRIPE_SECRET_KEY" \
    RESEND_API_BASE "http://127.0.0.1:$RESEND_STANDIN_PORT" \
    RESEND_API_KEY "$LOCAL_RESEND_API_KEY" \
    RECEIPTS_FROM "$LOCAL_RECEIPTS_FROM" \
    APP_URL "$LOCAL_APP_URL" \
    WORKERS_URL "http://127.0.0.1:$WORKERS_PORT/functions/v1"
  tail -n +2 "$cache"
}

# What every Deno process of the stack needs to reach the package registries from this machine: the
# system's trust store (Deno's own does not hold every chain a machine trusts, e.g. a proxy's) and the
# caller's proxy settings. An explicit DENO_TLS_CA_STORE or DENO_CERT wins.
deno_network_env() {
  if [[ -z ${DENO_TLS_CA_STORE:-} ]]; then export DENO_TLS_CA_STORE=system; fi
}

# Exports the stack's variables into this shell, for the commands it runs.
load_env() {
  local lines
  lines=$(env_lines)
  eval "$lines"
  export NO_COLOR=1
  # Nothing of the stack goes through a proxy.
  if [[ ,${NO_PROXY:-}, != *,127.0.0.1,* ]]; then
    export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
  fi
}

cmd_env() {
  cmd_setup --quiet
  env_lines
}
