// The resolver with its events and analytics off, for the benchmark's on/off comparison (issue
// 27): the very Wasm and glue `wrangler dev` runs for the resolver (build/), with `console.log` a
// no-op, so no event is logged, and no ANALYTICS binding (wrangler.toml here), so no data point is
// written. The events are still written in Rust and parsed in JS: what this saves is logging them
// and writing the point, which is what a deployment that turned both off would save at most.
import resolver from '../../build/worker/shim.mjs';

console.log = () => {};

export default resolver;
