# The local stand-ins for Stripe's and Resend's APIs (local/standins.ts under Deno, one process on two
# ports): start, stop, health, what restarts them. docs/local-stack.md, "Stripe and Resend stand-ins".
# shellcheck shell=bash

standins_pid() { [[ -f $STATE/standins.pid ]] && cat "$STATE/standins.pid"; }

# Running, and really ours: a stale pid file may name an unrelated process by now.
standins_running() {
  local pid
  pid=$(standins_pid) || return 1
  process_alive "$pid" && [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *local/standins.ts* ]]
}

# Their code and how ./stack starts them (the webhook they deliver to, its secret, the keys they accept).
standins_fingerprint() {
  printf '%s\n' "$(tree_hash local/standins.ts local/standin_http.ts local/stripe.ts local/stripe_objects.ts local/resend.ts package-lock.json)" \
    "$(code_hash start_standins standins_env)" "$STRIPE_SIGNING_SECRET" "$LOCAL_STRIPE_SECRET_KEY" "$LOCAL_RESEND_API_KEY" |
    sha256sum | cut -c1-64
}

standins_healthy() {
  [[ $(http_get "$STRIPE_STANDIN_PORT" /_stand-in/health | tail -n 1) == *'"status":"ok"'* &&
    $(http_get "$RESEND_STANDIN_PORT" /_stand-in/health | tail -n 1) == *'"status":"ok"'* ]]
}

stop_standins() {
  local pid
  pid=$(standins_pid) || return 0
  if standins_running; then
    log "down: stop the Stripe and Resend stand-ins (pid $pid)"
    terminate "$pid" "$pid"
  fi
  rm -f "$STATE/standins.pid" "$STATE/standins.sha256"
}

# What the stand-ins' process is told: its ports, where Stripe's events go and the secret they are
# signed with (the stripe-webhook function's), the keys it accepts (the functions').
standins_env() {
  export STRIPE_STANDIN_PORT RESEND_STANDIN_PORT
  export STRIPE_WEBHOOK_URL="http://127.0.0.1:$GATEWAY_PORT/functions/v1/stripe-webhook"
  export STRIPE_WEBHOOK_SECRET=$STRIPE_SIGNING_SECRET
  export STRIPE_SECRET_KEY=$LOCAL_STRIPE_SECRET_KEY RESEND_API_KEY=$LOCAL_RESEND_API_KEY NO_COLOR=1
}

start_standins() {
  local want pid start port
  want=$(standins_fingerprint)
  if standins_running; then
    if [[ $(cat "$STATE/standins.sha256" 2>/dev/null) == "$want" ]] && standins_healthy; then
      return
    fi
    log "up: the stand-ins changed since they started (or one is down): restarting them"
    stop_standins
  fi
  for port in "$STRIPE_STANDIN_PORT" "$RESEND_STANDIN_PORT"; do
    wait_for_free_port "$port" "the Stripe and Resend stand-ins" "another checkout: ./stack down there"
  done
  start=$(now_us)
  CURRENT_STEP="up: start the Stripe and Resend stand-ins"
  log "$CURRENT_STEP on 127.0.0.1:$STRIPE_STANDIN_PORT and :$RESEND_STANDIN_PORT ..."
  (
    standins_env
    exec >>"$LOGS/standins.log" 2>&1 </dev/null
    close_inherited_fds
    exec setsid "$DENO" run --allow-net=127.0.0.1 --allow-env --allow-read="$ROOT" local/standins.ts
  ) &
  pid=$!
  echo "$pid" >"$STATE/standins.pid"
  for _ in $(seq 300); do
    process_alive "$pid" || die "the stand-ins exited while starting" "read $LOGS/standins.log (./stack logs)"
    standins_healthy && break
    sleep 0.1
  done
  standins_healthy || die "the stand-ins did not answer in 30s" "read $LOGS/standins.log"
  echo "$want" >"$STATE/standins.sha256"
  log "$CURRENT_STEP: done in $(since "$start")"
  CURRENT_STEP=""
}
