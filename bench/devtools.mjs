// Turning off what `wrangler dev` turns on for its DevTools. Its inspector proxy enables two
// DevTools domains in every Worker's runtime, for a session production does not have:
// - Network: each subrequest emits about four events (and wrangler logs each), roughly doubling
//   a forwarding Worker's CPU per request;
// - Runtime: each `console.log` becomes a `Runtime.consoleAPICalled` event, its arguments
//   serialised for the inspector and sent to wrangler's node process, which prints them. On
//   Cloudflare a log line is kept with the invocation's trace instead; here the event cost a
//   Worker that logs once per request (the resolver's request event) more than its whole hit.
// The benchmark sends `Network.disable` and `Runtime.disable` through the Worker's
// `--inspector-port` (the session wrangler's proxy holds) before it measures (../shared
// TOOLCHAIN.md). The Workers' log lines are then not printed: nothing here reads them.

import WebSocket from 'ws';

const DOMAINS = ['Network', 'Runtime'];

/** Disables the DevTools domains above in the runtime behind wrangler's inspector on `port`; resolves once both are answered. */
export function quietDevTools(port, { timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const pending = new Set(DOMAINS.map((_, i) => i + 1));
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer to ${DOMAINS.map((d) => `${d}.disable`).join(', ')} from the inspector on ${port}`));
    }, timeoutMs);
    socket.on('open', () => {
      for (const [i, domain] of DOMAINS.entries()) socket.send(JSON.stringify({ id: i + 1, method: `${domain}.disable` }));
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (!pending.has(message.id)) return;
      if (message.error) {
        clearTimeout(timer);
        socket.close();
        reject(new Error(`${DOMAINS[message.id - 1]}.disable: ${JSON.stringify(message.error)}`));
        return;
      }
      pending.delete(message.id);
      if (pending.size === 0) {
        clearTimeout(timer);
        socket.close();
        resolve();
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
