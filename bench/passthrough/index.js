// Benchmark baseline for the forwarded-HTML path: a Worker that passes every request through to
// ORIGIN_URL and returns the origin's answer untouched. What any forwarding Worker costs at the
// least; the resolver's forwarding (and branding injection) is measured beside it.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(`${env.ORIGIN_URL}${url.pathname}${url.search}`, { headers: request.headers, method: request.method });
  },
};
