# The transaction pooler: PgBouncer in front of the main cluster, as Supavisor is in front of a hosted
# project's database. The edge functions connect through it (BUCKETS_DB_URL).
# shellcheck shell=bash

readonly PGBOUNCER=/usr/sbin/pgbouncer

pooler_dir() { echo "$(pg_state)/pooler"; }

pooler_pid() { cat "$STATE/pgbouncer.pid" 2>/dev/null; }

pooler_running() {
  local pid
  pid=$(pooler_pid) || return 1
  process_alive "$pid" && [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *pgbouncer* ]]
}

# Transaction mode, as hosted: a server connection is a client's only for one transaction, so no
# session state (prepared statements, SET without LOCAL) survives between transactions. While the
# database is down, clients are answered within seconds (connect and wait timeouts), and the pooler
# tries the server again every second, not every 15 (its default).
pooler_settings() {
  cat <<EOF
; Written by ./stack on every start; edit the stack script, not this file.
[databases]
postgres = host=127.0.0.1 port=$MAIN_PORT dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $POOLER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $(pooler_dir)/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
max_db_connections = 80
server_connect_timeout = 2
server_login_retry = 1
query_wait_timeout = 3
server_idle_timeout = 60
ignore_startup_parameters = extra_float_digits,options
EOF
}

start_pooler() {
  local dir conf want
  dir=$(pooler_dir)
  conf="$dir/pgbouncer.ini"
  want=$(pooler_settings)
  if pooler_running; then
    [[ -f $conf && $(<"$conf") == "$want" ]] && return
    stop_pooler
  fi
  install -d -o postgres -g postgres -m 700 "$dir"
  printf '%s\n' "$want" >"$conf"
  printf '"postgres" "%s"\n' "$DB_PASSWORD" >"$dir/userlist.txt"
  chown postgres:postgres "$conf" "$dir/userlist.txt"
  chmod 600 "$dir/userlist.txt"
  if port_in_use "$POOLER_PORT"; then
    die "port $POOLER_PORT, which the pooler uses, is taken by another process" \
      "find it with: ss -ltnp 'sport = :$POOLER_PORT' — stop it, then re-run"
  fi
  log "up: start PgBouncer (transaction mode) on 127.0.0.1:$POOLER_PORT"
  (
    exec >>"$LOGS/pgbouncer.log" 2>&1 </dev/null
    close_inherited_fds
    # PgBouncer refuses to run as root; setpriv drops to postgres in this process (runuser would stay
    # behind as a parent, and the pid would not be PgBouncer's).
    if ((EUID == 0)); then
      exec setsid setpriv --reuid=postgres --regid=postgres --init-groups "$PGBOUNCER" "$conf"
    fi
    exec setsid "$PGBOUNCER" "$conf"
  ) &
  echo "$!" >"$STATE/pgbouncer.pid"
  for _ in $(seq 50); do
    port_in_use "$POOLER_PORT" && return
    pooler_running || break
    sleep 0.1
  done
  die "PgBouncer did not start listening on $POOLER_PORT" "read $LOGS/pgbouncer.log"
}

stop_pooler() {
  local pid
  pooler_running || return 0
  pid=$(pooler_pid)
  log "down: stop PgBouncer (pid $pid)"
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    process_alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STATE/pgbouncer.pid"
}
