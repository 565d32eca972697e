#!/usr/bin/env bash
# Builds the Worker into edge/workers/target/worker/: the Rust crate for wasm32 (release), wasm-bindgen's ES module
# glue (--target web, the version Cargo.lock pins: ./stack setup installs it) and the entry module.
# wrangler.toml runs it as its build command; ./stack up runs it through build_workers.
# No worker-build: it downloads its own wasm-bindgen and esbuild, which a machine without GitHub lacks.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Under a target/ folder: the stack's source fingerprints leave those out.
out="$root/edge/workers/target/worker"
wasm="${CARGO_TARGET_DIR:-$root/target}/wasm32-unknown-unknown/release/buckets_workers.wasm"
cd "$root"
cargo build -p buckets_workers --target wasm32-unknown-unknown --release
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" --out-name buckets_workers "$wasm"
cp edge/workers/entry.mjs "$out/entry.mjs"
