// The Worker's ES module entry: what `worker-build` would write, kept here so that the build needs only
// cargo and wasm-bindgen (edge/workers/build.sh). It instantiates the Rust module once per isolate, from
// the WebAssembly.Module the runtime hands an imported .wasm as, and exports its `fetch` handler.
import wasmModule from "./buckets_workers_bg.wasm";
import { fetch as handleFetch, initSync } from "./buckets_workers.js";

initSync({ module: wasmModule });

export default {
  fetch(request, env, ctx) {
    return handleFetch(request, env, ctx);
  },
};
