# The database clusters, main and hosted-shape: where they live, initdb, settings, start and stop, psql,
# and what goes into them: the Supabase shim, the migrations (on hosted: the CLI's db push), the seed.
# shellcheck shell=bash

# Where the clusters live: .stack/pg when the postgres user can reach it, otherwise (a checkout under
# a directory only its owner may enter) a directory of its own under /var/lib.
pg_state() {
  if [[ -z ${PG_STATE:-} ]]; then
    if ! id -u postgres >/dev/null 2>&1 || as_postgres test -x "$STATE" 2>/dev/null; then
      PG_STATE="$STATE/pg"
    else
      PG_STATE="/var/lib/buckets-stack/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    fi
  fi
  echo "$PG_STATE"
}

cluster_port() {
  case $1 in
    main) echo "$MAIN_PORT" ;;
    hosted) echo "$HOSTED_PORT" ;;
  esac
}

# The role that owns the cluster: `postgres` on main (a self-hosted database with our extension), the
# platform's own superuser on the hosted-shape cluster.
cluster_superuser() {
  case $1 in
    main) echo postgres ;;
    hosted) echo "$HOSTED_SUPERUSER" ;;
  esac
}

cluster_dir() { echo "$(pg_state)/$1"; }
cluster_data() { echo "$(pg_state)/$1/data"; }
cluster_log() { echo "$LOGS/postgres-$1.log"; }
# What the app's migrations and the functions log in as: `postgres`, as on a Supabase project.
db_url() { echo "postgresql://postgres:$DB_PASSWORD@127.0.0.1:$(cluster_port "$1")/postgres"; }
admin_db_url() { echo "postgresql://$(cluster_superuser "$1"):$DB_PASSWORD@127.0.0.1:$(cluster_port "$1")/postgres"; }
pooler_url() { echo "postgresql://postgres:$DB_PASSWORD@127.0.0.1:$POOLER_PORT/postgres"; }

# The pid in the cluster's postmaster.pid, when that process is alive (not a zombie).
postmaster_alive() {
  local pid
  pid=$(head -n 1 "$(cluster_data "$1")/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && process_alive "$pid"
}

# pg_ctl status trusts kill -0, which a killed postmaster that nobody reaped (a zombie) still passes.
cluster_running() {
  as_postgres "$PG_BIN/pg_ctl" -D "$(cluster_data "$1")" status >/dev/null 2>&1 && postmaster_alive "$1"
}

# A killed postmaster leaves postmaster.pid behind, naming a dead or zombie process, and a new one
# refuses to start while that pid "exists". Once the port is free (the old backends have seen their
# postmaster die and exited), the file is stale.
clear_stale_pid_file() {
  local name=$1 pidfile
  pidfile="$(cluster_data "$name")/postmaster.pid"
  if [[ ! -f $pidfile ]] || postmaster_alive "$name"; then return 0; fi
  for _ in $(seq 100); do
    port_in_use "$(cluster_port "$name")" || break
    sleep 0.1
  done
  log "up: the $name cluster's postmaster is gone (killed?); removing its stale postmaster.pid"
  rm -f "$pidfile"
}

# pg_ctl_on <cluster> <pg_ctl args...>, as postgres, its output in the cluster's log. The server's own
# log goes there too: pg_ctl's -l file would have to be writable by postgres.
pg_ctl_on() {
  local name=$1
  shift
  logged "$(cluster_log "$name")" without_inherited_fds as_postgres "$PG_BIN/pg_ctl" -D "$(cluster_data "$name")" -w -t 120 "$@"
}

# The settings ./stack owns, included from postgresql.conf.
cluster_settings() {
  cat <<EOF
# Written by ./stack on every start; edit the stack script, not this file.
listen_addresses = '127.0.0.1'
port = $(cluster_port "$1")
unix_socket_directories = ''
max_connections = 200
password_encryption = 'scram-sha-256'
fsync = on
synchronous_commit = on
full_page_writes = on
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
# Jobs run in background workers, so pg_cron needs no password to connect.
cron.use_background_workers = on
max_worker_processes = 16
EOF
}

init_cluster() {
  local name=$1 dir data pwfile
  dir=$(cluster_dir "$name")
  data=$(cluster_data "$name")
  [[ -f $data/PG_VERSION ]] && return
  mkdir -p "$dir"
  chmod 755 "$dir"
  rm -rf "$data"
  install -d -o postgres -g postgres -m 700 "$data"
  pwfile="$dir/initdb-password"
  printf '%s\n' "$DB_PASSWORD" >"$pwfile"
  chown postgres "$pwfile"
  chmod 600 "$pwfile"
  step "up: initdb the $name cluster" logged "$(cluster_log "$name")" \
    as_postgres "$PG_BIN/initdb" -D "$data" -U "$(cluster_superuser "$name")" --pwfile="$pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 ||
    die "initdb of the $name cluster failed" "see $(cluster_log "$name")"
  rm -f "$pwfile"
  echo "include_if_exists = 'postgresql.stack.conf'" >>"$data/postgresql.conf"
  cat >"$data/pg_hba.conf" <<'EOF'
# Written by ./stack: TCP on 127.0.0.1 only, every role authenticates with its password (SCRAM).
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  scram-sha-256
EOF
  chown postgres:postgres "$data/pg_hba.conf"
}

# Writes the stack's settings; returns 0 when they changed.
write_cluster_settings() {
  local name=$1 conf new
  conf="$(cluster_data "$name")/postgresql.stack.conf"
  new=$(cluster_settings "$name")
  [[ -f $conf && $(<"$conf") == "$new" ]] && return 1
  printf '%s\n' "$new" >"$conf"
  chown postgres:postgres "$conf"
}

start_cluster() {
  local name=$1 port
  port=$(cluster_port "$name")
  init_cluster "$name"
  if cluster_running "$name"; then
    if write_cluster_settings "$name"; then
      step "up: restart the $name cluster (its settings changed)" pg_ctl_on "$name" -m fast restart
    fi
    return
  fi
  clear_stale_pid_file "$name"
  write_cluster_settings "$name" || true
  if port_in_use "$port"; then
    die "port $port, which the $name cluster uses, is taken by another process" \
      "find it with: ss -ltnp 'sport = :$port' — stop it (another checkout's stack: ./stack down there), then re-run"
  fi
  step "up: start the $name cluster on 127.0.0.1:$port" pg_ctl_on "$name" start ||
    die "the $name cluster did not start" "read $(cluster_log "$name") (./stack logs), fix the cause, then re-run"
}

stop_cluster() {
  local name=$1
  [[ -f $(cluster_data "$name")/PG_VERSION ]] && cluster_running "$name" || return 0
  step "down: stop the $name cluster" pg_ctl_on "$name" -m fast stop
}

# psql_as <role> <cluster> [psql args]
psql_as() {
  local role=$1 name=$2
  shift 2
  PGPASSWORD=$DB_PASSWORD PGCLIENTENCODING=UTF8 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$(cluster_port "$name")" -U "$role" -d postgres "$@"
}

# psql_on <cluster> [psql args]: as the cluster's superuser.
psql_on() {
  local name=$1
  shift
  psql_as "$(cluster_superuser "$name")" "$name" "$@"
}

# run_sql_file <cluster> <what> <file> [more psql args]: one transaction, as the cluster's superuser;
# on failure shows psql's output.
run_sql_file() {
  local name=$1 what=$2 file=$3 out
  shift 3
  if ! out=$(psql_on "$name" --single-transaction -f "$file" "$@" 2>&1); then
    printf '%s\n' "$out" >&2
    die "$what failed on the $name cluster (nothing of it was applied)" "fix $file, then re-run"
  fi
  printf '%s\n' "$out" >>"$LOGS/sql-$name.log"
}

# The SQL that CREATE EXTENSION pg_coliseum runs, as installed now.
extension_sql_hash() {
  local dir
  dir="$("$PG_CONFIG" --sharedir)/extension"
  # Without the comment lines: pgrx writes the Rust source line of each object into them, so a line
  # added anywhere above a #[pg_extern] would otherwise count as a change of the SQL.
  cat "$dir"/pg_coliseum.control "$dir"/pg_coliseum--*.sql 2>/dev/null | grep -v '^[[:space:]]*--' | sha256sum | cut -c1-64
}

# Lines "<version> <md5 of the text applied> <name>", in version order, of what the cluster has applied.
# On the hosted-shape cluster the Supabase CLI applies them and records each file split into its own
# statements, so ./stack keeps the list of what it pushed next to the cluster instead.
applied_migrations() {
  if [[ $1 == hosted ]]; then
    cat "$(cluster_dir "$1")/pushed" 2>/dev/null || true
    return
  fi
  psql_on "$1" -At -F ' ' \
    -c "set client_min_messages = warning" \
    -c "create schema if not exists supabase_migrations" \
    -c "create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text)" \
    -c "select version, md5(array_to_string(statements, '')), name from supabase_migrations.schema_migrations order by version"
}

# The local migration files, in the order they apply: lines "<version> <md5> <name> <file>".
local_migrations() {
  local file base
  shopt -s nullglob
  for file in supabase/migrations/*.sql; do
    base=$(basename "$file" .sql)
    if [[ $base =~ ^([0-9]+)_(.+)$ ]]; then
      echo "${BASH_REMATCH[1]} $(md5sum "$file" | cut -c1-32) ${BASH_REMATCH[2]} $file"
    else
      log "up: skipping $file: a migration's name must be <version>_<name>.sql" >&2
    fi
  done
  shopt -u nullglob
}

# Prints why the cluster's database no longer matches its sources (nothing when it does). Such a
# database is only ever fixed by starting afresh: deployed migrations are never edited.
database_drift() {
  local name=$1 dir version hash mname file max_applied=""
  dir=$(cluster_dir "$name")
  [[ -f $dir/shim.sha256 ]] || return 0
  if [[ $(<"$dir/shim.sha256") != "$(file_hash local/supabase_shim.sql)" ]]; then
    echo "local/supabase_shim.sql changed after the $name cluster was created"
    return
  fi
  # A migration created the extension's SQL objects once; a new SQL API needs a new database.
  if [[ -f $dir/pg_coliseum-sql.sha256 && $(<"$dir/pg_coliseum-sql.sha256") != "$(extension_sql_hash)" ]]; then
    echo "the SQL of pg_coliseum changed since the $name cluster was created: it still has the old functions"
    return
  fi
  local -A applied=()
  local applied_list local_list
  applied_list=$(applied_migrations "$name") || die "cannot read the migrations applied to the $name cluster" "see ./stack logs"
  local_list=$(local_migrations)
  while read -r version hash mname; do
    [[ -n $version ]] || continue
    applied[$version]=$hash
    max_applied=$version
    if [[ ! -f supabase/migrations/${version}_${mname}.sql ]]; then
      echo "migration ${version}_${mname} is applied to the $name cluster but its file is gone"
      return
    fi
  done <<<"$applied_list"
  while read -r version hash mname file; do
    [[ -n $version ]] || continue
    if [[ -n ${applied[$version]:-} ]]; then
      if [[ ${applied[$version]} != "$hash" ]]; then
        echo "$file changed after it was applied to the $name cluster"
        return
      fi
    elif [[ -n $max_applied && $version < $max_applied ]]; then
      echo "$file is older than the newest migration applied to the $name cluster ($max_applied)"
      return
    fi
  done <<<"$local_list"
}

# The platform's part of the database, once per fresh cluster; on the main cluster also the SQL of
# the extension that the migrations are about to create.
apply_shim() {
  local name=$1 dir
  dir=$(cluster_dir "$name")
  [[ -f $dir/shim.sha256 ]] && return
  if [[ $name == hosted ]]; then
    # As on a Supabase project: postgres logs in, creates roles and databases, bypasses RLS, and is no
    # superuser.
    run_sql_file "$name" "creating the postgres role" - -v password="$DB_PASSWORD" <<'SQL'
create role postgres login nosuperuser createdb createrole replication bypassrls password :'password';
alter database postgres owner to postgres;
SQL
  fi
  run_sql_file "$name" "local/supabase_shim.sql" local/supabase_shim.sql
  if [[ $name == main ]]; then extension_sql_hash >"$dir/pg_coliseum-sql.sha256"; fi
  file_hash local/supabase_shim.sql >"$dir/shim.sha256"
}

# The new migrations in file name order, each in one transaction, recorded where the Supabase CLI
# records them, in the same transaction, with the file's exact text.
apply_migrations() {
  local name=$1 version hash mname file tag count=0 applied_list local_list
  local -A applied=()
  applied_list=$(applied_migrations "$name")
  local_list=$(local_migrations)
  while read -r version hash mname; do
    if [[ -n $version ]]; then applied[$version]=1; fi
  done <<<"$applied_list"
  while read -r version hash mname file; do
    [[ -n $version && -z ${applied[$version]:-} ]] || continue
    tag="m${hash}" # a dollar quote that no file contains
    {
      printf "insert into supabase_migrations.schema_migrations (version, name, statements) values ('%s', '%s', array[\$%s\$" \
        "$version" "${mname//\'/\'\'}" "$tag"
      cat "$file"
      printf '$%s$]);\n' "$tag"
    } | run_sql_file "$name" "migration $(basename "$file")" "$file" -f -
    count=$((count + 1))
  done <<<"$local_list"
  if ((count > 0)); then log "up: applied $count migration(s) to the $name cluster"; fi
}

# supabase/seed.sql, once per cluster, after its first migrations.
apply_seed() {
  local name=$1 stamp want
  [[ -f supabase/seed.sql ]] || return 0
  stamp="$(cluster_dir "$name")/seed.sha256"
  want=$(file_hash supabase/seed.sql)
  if [[ -f $stamp ]]; then
    [[ $(<"$stamp") == "$want" ]] ||
      log "up: note: supabase/seed.sql changed since it was applied to the $name cluster; ./stack reset applies it afresh"
    return 0
  fi
  run_sql_file "$name" "supabase/seed.sql" supabase/seed.sql
  echo "$want" >"$stamp"
  log "up: seeded the $name cluster"
}

# push_migrations <cluster>: the real Supabase CLI applies the new migrations and the seed, as
# `supabase db push` does against a project.
push_migrations() {
  local name=$1 pushed out
  pushed="$(cluster_dir "$name")/pushed"
  if [[ -f $pushed && $(<"$pushed") == "$(local_migrations | cut -d ' ' -f 1-3)" ]]; then return; fi
  if ! out=$(SUPABASE_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 "$SUPABASE_CLI" db push --workdir "$ROOT" \
    --db-url "$(db_url "$name")?sslmode=disable" --include-seed --skip-vault --yes 2>&1); then
    printf '%s\n' "$out" >>"$LOGS/sql-$name.log"
    # The CLI echoes the whole failing statement; its lines that say what failed are enough here.
    grep -E '^(Applying migration|Seeding data|ERROR|At statement)' <<<"$out" >&2 || tail -n 20 <<<"$out" >&2
    die "supabase db push to the $name cluster failed (the failing migration was rolled back)" \
      "fix the migration it names (full output in $LOGS/sql-$name.log), then re-run"
  fi
  printf '%s\n' "$out" >>"$LOGS/sql-$name.log"
  local_migrations | cut -d ' ' -f 1-3 >"$pushed"
  log "up: supabase db push applied the migrations and the seed to the $name cluster"
}

# A database that no longer matches its sources stops `up`; the commands that drive the stack
# themselves (test, demo, bench) set RECREATE_STALE_DATABASES and get a fresh one instead.
prepare_database() {
  local name=$1 drift
  drift=$(database_drift "$name")
  if [[ -n $drift ]]; then
    [[ -n ${RECREATE_STALE_DATABASES:-} ]] ||
      die "$drift" "run ./stack reset (local data is discarded). On a deployed project never edit a migration: add a new one"
    log "up: $drift: recreating the $name cluster"
    stop_cluster "$name"
    rm -rf "$(cluster_dir "$name")"
    start_cluster "$name"
  fi
  apply_shim "$name"
  if [[ $name == hosted ]]; then
    push_migrations "$name"
  else
    apply_migrations "$name"
    apply_seed "$name"
  fi
}
