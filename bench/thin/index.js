// The thin entry (see src/lib.rs): the Wasm module instantiated once per isolate, and a fetch
// handler that hands it the request. This is all the JS between the runtime and the Rust code.

import { fetch as answer, initSync } from './build/bench_thin.js';
import wasm from './build/bench_thin_bg.wasm';

initSync({ module: wasm });

export default {
  fetch(request) {
    return answer(request);
  },
};
