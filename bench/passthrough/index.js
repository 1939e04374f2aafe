// Benchmark baseline for the forwarded-page path: a Worker that passes every request through to
// ORIGIN_URL and returns the origin's answer untouched, as the smallest forwarding Worker is
// written (`fetch(new Request(origin + path, request))`). What any forwarding Worker costs at
// the least; the resolver's forwarding (branded or not, signed or not) is measured beside it.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(new Request(env.ORIGIN_URL + url.pathname + url.search, request));
  },
};
