// What /proc tells about this run: the CPU that processes outside the benchmark's own process
// tree (other builds and tests on this shared machine) take while it measures.

import fs from 'node:fs';
import os from 'node:os';
import { descends, processTable } from '../scripts/proc.mjs';
import { sleep } from '../scripts/stack.mjs';

/** Machine CPU ticks (busy, total) and those of this benchmark's own process tree. */
export function cpuSample() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  const table = processTable();
  let ours = 0;
  for (const [pid, p] of table) if (descends(table, pid, process.pid)) ours += p.ticks;
  return { busy, total: busy + f[3] + f[4], ours };
}

/**
 * Cores busy with processes outside this benchmark between two samples (other engineers'
 * builds and tests share this machine): reported with every run, so a disturbed run is visible.
 */
export const otherCores = (a, b) => Math.max(0, b.busy - a.busy - (b.ours - a.ours)) / ((b.total - a.total) / os.availableParallelism());

/** Waits (at most `maxMs`) for a second in which other processes use under a quarter core. */
export async function waitForQuiet(maxMs = 5_000) {
  for (const deadline = Date.now() + maxMs; ; ) {
    const a = cpuSample();
    await sleep(1000);
    const other = otherCores(a, cpuSample());
    if (other < 0.25 || Date.now() > deadline) return other;
  }
}
