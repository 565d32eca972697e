# build: the extension (cargo pgrx install) and the edge WASM (cargo build, wasm-bindgen), each skipped
# when its sources and its build step did not change.
# shellcheck shell=bash

installed_extension_so() { echo "$("$PG_CONFIG" --pkglibdir)/pg_coliseum.so"; }

# What is installed now: the sources it was built from (and how: build_extension) and the library file
# itself. Another build (`cargo pgrx test` installs its own) changes the last part.
extension_fingerprint() {
  local so
  so=$(installed_extension_so)
  echo "$(tree_hash pg_coliseum buckets_core Cargo.toml Cargo.lock) $(code_hash build_extension) $([[ -f $so ]] && file_hash "$so")"
}

build_extension() {
  local stamp="$STATE/build/pg_coliseum"
  if [[ -f $stamp && $(<"$stamp") == "$(extension_fingerprint)" ]]; then
    log "build: pg_coliseum unchanged, already installed"
    return
  fi
  local install_args=(--release -p pg_coliseum --pg-config "$PG_CONFIG")
  ((EUID == 0)) || install_args+=(--sudo)
  step "build: cargo pgrx install --release -p pg_coliseum" cargo pgrx install "${install_args[@]}"
  extension_fingerprint >"$stamp"
}

build_edge() {
  local stamp="$STATE/build/edge" hash wasm
  hash="$(tree_hash edge buckets_core Cargo.toml Cargo.lock) $(code_hash build_edge) $(wasm-bindgen --version)"
  if [[ -f $stamp && $(<"$stamp") == "$hash" && -f $EDGE_OUT/buckets_edge_bg.wasm && -f $EDGE_OUT/buckets_edge.js ]]; then
    log "build: edge WASM unchanged"
    return
  fi
  wasm="${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-unknown-unknown/release/buckets_edge.wasm"
  step "build: cargo build -p buckets_edge (wasm32, release)" \
    cargo build -p buckets_edge --target wasm32-unknown-unknown --release
  step "build: wasm-bindgen into $EDGE_OUT" \
    wasm-bindgen --target web --out-dir "$EDGE_OUT" --out-name buckets_edge "$wasm"
  echo "$hash" >"$stamp"
}

cmd_build() {
  mkdir -p "$STATE/build"
  build_extension
  build_edge
  build_workers
}
