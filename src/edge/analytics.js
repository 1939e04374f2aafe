// Per-tenant analytics (docs/operations.md, "Per-tenant analytics"): one Workers Analytics Engine
// data point per request whose tenant the Worker found, made from that request's event (the
// object `emit` logged), so the log and the analytics cannot disagree. Made here rather than in
// Rust: a data point is a plain object handed to the binding, and building it in JS costs the
// Wasm nothing.
//
// The order of blobs and doubles is a contract the control plane's queries read by position
// (control/src/analytics.rs): append new ones, never reorder or reuse a position.
//   index1  tenant_id
//   blob1   host            blob4  branding (applied, skipped, none, or '')
//   blob2   route           blob5  status class (2xx … 5xx)
//   blob3   cache (hit …)   blob6  colo (the data center, '' when unknown)
//   double1 duration_ms     double2 upstream_ms     double3 response bytes

/**
 * Writes the data point of the request whose event is `event` to the `ANALYTICS` binding, when
 * the Worker has one (else nothing). `writeDataPoint` returns nothing and is never awaited. A
 * throw (a binding that is not a dataset) fails nothing: its name is returned, for the caller's
 * `analytics_failed` event; else `undefined`.
 */
export function record(env, event, bytes) {
  const dataset = env.ANALYTICS;
  if (!dataset || !event.tenant_id) return undefined;
  try {
    dataset.writeDataPoint({
      indexes: [event.tenant_id],
      blobs: [event.host, event.route, event.cache, event.branding, `${Math.floor(event.status / 100)}xx`, event.colo].map((b) => b ?? ''),
      doubles: [event.duration_ms, event.upstream_ms, bytes],
    });
  } catch (e) {
    return String(e?.name ?? e);
  }
  return undefined;
}
