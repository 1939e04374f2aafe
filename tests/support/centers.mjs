// Several data centers of one stack (each a workerd of its own, with its own Cache API), asked
// the same thing until they all agree: how the tests measure "visible everywhere within the
// change feed's bound".

import assert from 'node:assert/strict';
import { sleep } from '../../scripts/stack.mjs';
import { request } from './http.mjs';

/** GET `urlPath` on a data center (`{ name, url }`) with `host` as the Host header. */
export const onCenter = (center, urlPath, host) => request(`${center.url}${urlPath}`, { host, timeoutMs: 10_000 });

/**
 * Polls every data center until `check(res)` holds on each; resolves with how long that took
 * after `started` (ms since the epoch). Fails, naming the last answer, after 15 s.
 */
export async function everywhere(centers, started, urlPath, host, check, what) {
  const pending = new Set(centers);
  let last = '';
  while (pending.size > 0) {
    if (Date.now() - started > 15_000) assert.fail(`${what}: not so after 15 s (last: ${last})`);
    for (const center of [...pending]) {
      const res = await onCenter(center, urlPath, host);
      if (check(res)) pending.delete(center);
      else last = `${center.name} → ${res.status} ${res.body.slice(0, 120)}`;
    }
    if (pending.size > 0) await sleep(50);
  }
  return Date.now() - started;
}
