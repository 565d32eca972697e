# setup: install what is missing, and nothing else: apt packages, the postgres user, the WASM target,
# cargo-pgrx, wasm-bindgen-cli, Deno and the npm packages, the functions' Deno dependencies.
# shellcheck shell=bash

missing_apt_packages() {
  local installed
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null |
    awk '$NF == "installed" { print $1 }' || true)
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    grep -qx "$pkg" <<<"$installed" || echo "$pkg"
  done
}

# apt_install <package...>: the package lists are refreshed only when something is missing.
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

ensure_apt_packages() {
  local missing
  mapfile -t missing < <(missing_apt_packages)
  ((${#missing[@]} == 0)) && return
  step "setup: apt-get install ${missing[*]}" apt_install "${missing[@]}"
}

ensure_postgres_user() {
  [[ -x $PG_BIN/postgres ]] || die "PostgreSQL 15 is not installed at $PG_BIN" "apt-get install postgresql-15, then re-run"
  id -u postgres >/dev/null 2>&1 && return
  step "setup: create the postgres system user" \
    as_root useradd --system --home-dir /var/lib/postgresql --create-home --shell /bin/bash postgres
}

ensure_wasm_target() {
  [[ $(rustup target list --installed 2>/dev/null || true) == *wasm32-unknown-unknown* ]] && return
  command -v rustup >/dev/null || die "rustup is needed to add the wasm32-unknown-unknown target" "install Rust with rustup (https://rustup.rs)"
  step "setup: rustup target add wasm32-unknown-unknown" rustup target add wasm32-unknown-unknown
}

ensure_cargo_pgrx() {
  [[ $(cargo pgrx --version 2>/dev/null || true) == "cargo-pgrx $PGRX_VERSION" ]] && return
  step "setup: cargo install cargo-pgrx $PGRX_VERSION" cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
}

ensure_pgrx_init() {
  local config="${PGRX_HOME:-$HOME/.pgrx}/config.toml"
  grep -qx "pg15 = \"$PG_CONFIG\"" "$config" 2>/dev/null && return
  step "setup: cargo pgrx init --pg15 $PG_CONFIG" cargo pgrx init --pg15 "$PG_CONFIG"
}

# The CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
lock_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm_bindgen() {
  local want
  want=$(lock_version wasm-bindgen)
  [[ -n $want ]] || die "Cargo.lock has no wasm-bindgen crate" "the edge crate depends on wasm-bindgen; run cargo generate-lockfile"
  [[ $(wasm-bindgen --version 2>/dev/null || true) == "wasm-bindgen $want" ]] && return
  step "setup: cargo install wasm-bindgen-cli $want" cargo install wasm-bindgen-cli --version "$want"
}

# Deno and the npm packages of the tests come from package-lock.json.
ensure_node_modules() {
  local want stamp="$STATE/npm-lock.sha256"
  want=$(file_hash package-lock.json)
  if [[ -x $DENO && -f $stamp && $(<"$stamp") == "$want" ]]; then return; fi
  command -v npm >/dev/null || die "npm is not installed" "install Node.js and npm, then re-run"
  # npm's report goes to stderr with the rest of the progress: `./stack env`'s stdout is eval'ed.
  step "setup: npm ci (Deno and the test packages)" npm ci --no-audit --no-fund --loglevel=error >&2
  "$DENO" --version >/dev/null 2>&1 ||
    die "node_modules/.bin/deno does not run after npm ci" "check that npm installed the deno package's platform binary (node_modules/@deno/*), then re-run"
  echo "$want" >"$stamp"
}

# The functions download their npm dependencies into Deno's cache (DENO_DIR), as the edge runtime
# does; resolve them now, so that a machine whose trust store or proxy Deno cannot use fails here.
ensure_function_deps() {
  local deps=supabase/functions/_shared/deps.ts stamp want out
  stamp="$STATE/function-deps.sha256"
  want="$(file_hash "$deps") ${DENO_DIR:-default}"
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then return; fi
  log "setup: deno cache $deps (the functions' npm dependencies, into ${DENO_DIR:-the default Deno cache})"
  if ! out=$(NO_COLOR=1 "$DENO" cache --quiet --config supabase/functions/deno.json "$deps" 2>&1); then
    printf '%s\n' "$out" >&2
    if [[ $out == *UnknownIssuer* || $out == *certificate* ]]; then
      die "Deno could not download the functions' dependencies: it does not trust this network's TLS chain" \
        "export DENO_TLS_CA_STORE=system (./stack sets it unless you set it) or DENO_CERT=/path/to/ca.pem, then re-run"
    fi
    die "Deno could not resolve the functions' dependencies ($deps)" \
      "check the network or the proxy (HTTPS_PROXY), then re-run"
  fi
  echo "$want" >"$stamp"
}

# cmd_setup [--quiet]
cmd_setup() {
  local start
  start=$(now_us)
  ensure_apt_packages
  ensure_postgres_user
  ensure_wasm_target
  ensure_cargo_pgrx
  ensure_pgrx_init
  ensure_wasm_bindgen
  ensure_node_modules
  ensure_function_deps
  [[ ${1:-} == --quiet ]] || log "setup: everything is installed ($(since "$start"))"
}
