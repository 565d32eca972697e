# Helpers every module uses: output, timing and failure (log, die, step, the exit trap), the lock that
# serialises ./stack commands in a checkout, running as root or postgres, processes, ports and hashes.
# shellcheck shell=bash

# ---------------------------------------------------------------------------------------------------
# Output, timing, failure

CURRENT_STEP=""

log() { printf 'stack: %s\n' "$*" >&2; }

# die <what failed> [<what to do>]
die() {
  printf 'stack: error: %s\n' "$1" >&2
  if [[ -n ${2:-} ]]; then printf 'stack: to fix: %s\n' "$2" >&2; fi
  CURRENT_STEP=""
  exit 1
}

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# since <start in µs>: the elapsed time as "1.2s"
since() {
  local us=$(($(now_us) - $1))
  printf '%d.%ds' $((us / 1000000)) $((us / 100000 % 10))
}

# step <name> <command...>: runs one long step, announcing it and reporting its duration.
step() {
  local name=$1 start
  shift
  start=$(now_us)
  CURRENT_STEP=$name
  log "$name ..."
  "$@" || return
  log "$name: done in $(since "$start")"
  CURRENT_STEP=""
}

on_exit() {
  local rc=$?
  if ((rc != 0)) && [[ -n $CURRENT_STEP ]]; then
    printf 'stack: error: "%s" failed (exit code %d); its output is above.\n' "$CURRENT_STEP" "$rc" >&2
  fi
  # ./stack test always ends with its summary line, also when it could not get to the tests.
  if ((rc != 0)) && [[ -n ${TEST_SUMMARY_PENDING:-} ]]; then
    printf 'stack test: %d passed, %d failed\n' "$TESTS_PASSED" "$((TESTS_FAILED + 1))"
  fi
}
trap on_exit EXIT

# One mutating ./stack command at a time in a checkout: they share clusters and ports. The lock is
# file descriptor 9, which daemons started by ./stack must not inherit (9>&-), or they would hold it.
take_lock() {
  # A test that drives the stack itself (the outage test restarts a killed cluster) runs under the
  # lock its ./stack test holds.
  [[ -n ${STACK_LOCK_HELD:-} ]] && return
  exec 9>"$STATE/lock"
  if ! flock -n 9; then
    log "waiting for another ./stack command in this checkout to finish ..."
    flock 9
  fi
}

# ---------------------------------------------------------------------------------------------------
# Users and processes

as_root() {
  if ((EUID == 0)); then "$@"; else sudo "$@"; fi
}

# Postgres never runs as root.
as_postgres() {
  if [[ $(id -un) == postgres ]]; then
    "$@"
  elif ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    sudo -u postgres -- "$@"
  fi
}

port_in_use() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# http_get <port> <path>: prints the raw HTTP response; fails when nothing answers.
http_get() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$2" >&3
    cat <&3' _ "$1" "$2" 2>/dev/null
}

# A zombie still answers `kill -0`, so read the process state (the field after "(command) ").
process_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ${stat##*) } != Z* ]]
}

# terminate <pid> <kill target>: SIGTERM to the target (a pid, or "-<pid>" for a process group the
# pid leads), up to 5 s for the pid to end, then SIGKILL.
terminate() {
  kill -TERM -- "$2" 2>/dev/null || true
  for _ in $(seq 50); do
    process_alive "$1" || break
    sleep 0.1
  done
  kill -KILL -- "$2" 2>/dev/null || true
}

# wait_for_free_port <port> <what uses it> <who else may hold it>: a process just stopped may hold its
# port a moment longer; dies naming the port when another process keeps it.
wait_for_free_port() {
  for _ in $(seq 50); do
    port_in_use "$1" || return 0
    sleep 0.1
  done
  die "port $1, which $2 uses, is taken by another process" \
    "find it with: ss -ltnp 'sport = :$1' — stop it ($3), then re-run"
}

# wait_for_closed_connections <port>: waits (at most 70 s) until no connection of the port is in TIME-WAIT.
# workerd binds its port without SO_REUSEADDR, so the connections a stopped workerd closed itself keep
# the port from it for up to a minute ("bind(): Address already in use" with nothing listening).
wait_for_closed_connections() {
  command -v ss >/dev/null || return 0
  local told=""
  for _ in $(seq 700); do
    [[ -z $(ss -Htan state time-wait "( sport = :$1 )" 2>/dev/null) ]] && return 0
    if [[ -z $told ]]; then
      log "up: port $1 still has closed connections in TIME-WAIT: waiting for them to clear (up to a minute)"
      told=1
    fi
    sleep 0.1
  done
}

# tree_hash <path...>: one hash over the contents and names of every file under the paths.
tree_hash() {
  { find "$@" -type f ! -path '*/target/*' ! -path '*/node_modules/*' -print0 2>/dev/null || true; } |
    LC_ALL=C sort -z | xargs -0 -r sha256sum | sha256sum | cut -c1-64
}

file_hash() { sha256sum "$1" | cut -c1-64; }

# code_hash <function...>: one hash over the functions' code as bash lists it (comments and layout left
# out), so that a fingerprint covers the steps of ./stack that make a thing, not edits around them.
code_hash() { declare -f "$@" | sha256sum | cut -c1-64; }

# logged <log file> <command...>: appends the command's output to the log; on failure shows its end.
logged() {
  local log=$1 rc=0
  shift
  "$@" >>"$log" 2>&1 9>&- || rc=$?
  if ((rc != 0)); then
    tail -n 20 "$log" | sed 's/^/  | /' >&2
  fi
  return "$rc"
}

# Daemons must not inherit the caller's descriptors: a lock held by an outer `flock` (or any pipe)
# would otherwise stay held for as long as the daemon runs.
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

without_inherited_fds() { (close_inherited_fds && "$@"); }
