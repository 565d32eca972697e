# The Cloudflare Workers host (edge/workers, crate buckets_workers) in the local stack: built by
# edge/workers/build.sh, run under workerd (npm `workerd`) on WORKERS_PORT with the same secrets the Deno
# functions get, restarted when a fingerprint of what it is made of changes, logs in .stack/logs/workers.log.
# shellcheck shell=bash

readonly WORKERS_PORT=$((54342 + 10#$PORT_OFFSET))
readonly WORKERD="$ROOT/node_modules/.bin/workerd"
# Where edge/workers/build.sh writes the Worker (a target/ folder: source fingerprints leave it out).
readonly WORKERS_BUILD=edge/workers/target/worker
# What the Worker is served from: a copy of the build, next to the workerd config that embeds it (the
# config holds the local secrets, so it lives under .stack, never in the tree).
workers_dir() { echo "$STATE/workers"; }

build_workers() {
  local stamp="$STATE/build/workers" hash
  hash="$(tree_hash edge buckets_core Cargo.toml Cargo.lock) $(code_hash build_workers) $(wasm-bindgen --version)"
  if [[ -f $stamp && $(<"$stamp") == "$hash" && -f $WORKERS_BUILD/buckets_workers_bg.wasm ]]; then
    log "build: Worker unchanged"
    return
  fi
  step "build: the Worker (edge/workers/build.sh: cargo build -p buckets_workers, wasm-bindgen)" edge/workers/build.sh
  echo "$hash" >"$stamp"
}

workers_pid() { [[ -f $STATE/workers.pid ]] && cat "$STATE/workers.pid"; }

workers_running() {
  local pid
  pid=$(workers_pid) || return 1
  process_alive "$pid" && [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *workerd*serve* ]]
}

# The build, the config's code and the secrets it binds: a change restarts workerd.
workers_fingerprint() {
  # The build lies under target/, which tree_hash leaves out: its files are hashed here by name.
  printf '%s\n' "$(find "$WORKERS_BUILD" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum | sha256sum)" \
    "$(file_hash package-lock.json)" "$(code_hash workers_config start_workers env_lines)" \
    "$(env_lines | sha256sum)" | sha256sum | cut -c1-64
}

# A text binding per handler variable and per host variable, as `wrangler secret put` would set them.
workers_config() {
  local name value module
  load_env
  printf 'using Workerd = import "/workerd/workerd.capnp";\n\n'
  printf 'const config :Workerd.Config = (\n  services = [\n'
  printf '    (name = "buckets", worker = .buckets),\n'
  # Outbound fetches and database sockets go to the stack's own ports on 127.0.0.1.
  printf '    (name = "internet", network = (allow = ["public", "private", "local"])),\n  ],\n'
  printf '  sockets = [(name = "http", address = "127.0.0.1:%s", http = (), service = "buckets")],\n);\n\n' "$WORKERS_PORT"
  printf 'const buckets :Workerd.Worker = (\n  modules = [\n'
  printf '    (name = "entry.mjs", esModule = embed "build/entry.mjs"),\n'
  printf '    (name = "buckets_workers_bg.wasm", wasm = embed "build/buckets_workers_bg.wasm"),\n'
  while IFS= read -r module; do
    printf '    (name = "%s", esModule = embed "build/%s"),\n' "$module" "$module"
  done < <(cd "$(workers_dir)/build" && find . -name '*.js' | sed 's|^\./||' | LC_ALL=C sort)
  printf '  ],\n  compatibilityDate = "%s",\n  bindings = [\n' "$(workers_compatibility_date)"
  for name in SUPABASE_URL SUPABASE_JWT_SECRET JWT_SECRET STRIPE_WEBHOOK_SECRET TICKET_SIGNING_KEY STRIPE_API_BASE \
    STRIPE_SECRET_KEY RESEND_API_BASE RESEND_API_KEY RECEIPTS_FROM APP_URL BUCKETS_DB_URL; do
    value=${!name}
    value=${value//\\/\\\\}
    printf '    (name = "%s", text = "%s"),\n' "$name" "${value//\"/\\\"}"
  done
  # Keys are kept a second, as local/gateway.ts has the Deno functions keep them, so the tests that
  # rotate the local auth's keys see both hosts follow within the same time.
  printf '    (name = "JWKS_CACHE_TTL_S", text = "1"),\n'
  printf '  ],\n  globalOutbound = "internet",\n);\n'
}

# The compatibility date wrangler.toml deploys with, so local and deployed Workers behave alike.
workers_compatibility_date() { sed -n 's/^compatibility_date *= *"\(.*\)"/\1/p' wrangler.toml; }

stop_workers() {
  local pid
  pid=$(workers_pid) || return 0
  if workers_running; then
    log "down: stop the Worker (workerd, pid $pid)"
    terminate "$pid" "$pid"
  fi
  rm -f "$STATE/workers.pid" "$STATE/workers.sha256"
}

workers_health() { http_get "$WORKERS_PORT" /functions/v1/ticket-keys | tail -n 1; }

start_workers() {
  local want pid start dir
  want=$(workers_fingerprint)
  if workers_running; then
    if [[ $(cat "$STATE/workers.sha256" 2>/dev/null) == "$want" ]]; then
      return
    fi
    log "up: the Worker changed since workerd started: restarting it"
    stop_workers
  fi
  wait_for_free_port "$WORKERS_PORT" "the Worker" "another checkout: ./stack down there"
  wait_for_closed_connections "$WORKERS_PORT"
  start=$(now_us)
  CURRENT_STEP="up: start the Worker under workerd"
  log "$CURRENT_STEP on 127.0.0.1:$WORKERS_PORT ..."
  dir=$(workers_dir)
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -r "$WORKERS_BUILD" "$dir/build"
  (umask 077 && workers_config >"$dir/config.capnp")
  (
    exec >>"$LOGS/workers.log" 2>&1 </dev/null
    close_inherited_fds
    exec "$WORKERD" serve "$dir/config.capnp" --verbose
  ) &
  pid=$!
  echo "$pid" >"$STATE/workers.pid"
  for _ in $(seq 300); do
    process_alive "$pid" || die "workerd exited while starting" "read $LOGS/workers.log (./stack logs)"
    [[ $(workers_health || true) == *'"keys"'* ]] && break
    sleep 0.1
  done
  [[ $(workers_health || true) == *'"keys"'* ]] || die "the Worker did not answer in 30s" "read $LOGS/workers.log"
  echo "$want" >"$STATE/workers.sha256"
  log "$CURRENT_STEP: done in $(since "$start")"
  CURRENT_STEP=""
}
