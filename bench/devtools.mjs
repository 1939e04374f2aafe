// Turning off what `wrangler dev` turns on for its DevTools: its inspector proxy enables the
// DevTools Network domain in every Worker's runtime, so each subrequest emits about four events
// (and wrangler logs each), roughly doubling a forwarding Worker's CPU per request. Production
// has no such session; the benchmark sends `Network.disable` through the Worker's
// `--inspector-port` before it measures (../shared TOOLCHAIN.md).

import WebSocket from 'ws';

/** Sends `Network.disable` to the runtime behind wrangler's inspector on `port`; resolves once answered. */
export function disableNetworkDomain(port, { timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer to Network.disable from the inspector on ${port}`));
    }, timeoutMs);
    socket.on('open', () => socket.send(JSON.stringify({ id: 1, method: 'Network.disable' })));
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.id !== 1) return;
      clearTimeout(timer);
      socket.close();
      if (message.error) reject(new Error(`Network.disable: ${JSON.stringify(message.error)}`));
      else resolve();
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
