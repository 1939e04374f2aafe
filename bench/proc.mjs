// What /proc tells about this run: the benchmark's own process tree, the ports its processes
// listen on, and the CPU that processes outside it (other builds and tests on this shared
// machine) take while it measures.

import fs from 'node:fs';
import os from 'node:os';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** pid → { ppid, ticks (user + system, own and reaped children) } for every process. */
function processTable() {
  const table = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
      table.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

const descends = (table, pid, ancestor) => {
  for (let p = pid; p > 1; p = table.get(p)?.ppid ?? 0) if (p === ancestor) return true;
  return false;
};

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
export const otherCores = (a, b) =>
  Math.max(0, (b.busy - a.busy) - (b.ours - a.ours)) / ((b.total - a.total) / os.availableParallelism());

/** Waits (at most `maxMs`) for a second in which other processes use under a quarter core. */
export async function waitForQuiet(maxMs = 5_000) {
  for (const deadline = Date.now() + maxMs; ;) {
    const a = cpuSample();
    await sleep(1000);
    const other = otherCores(a, cpuSample());
    if (other < 0.25 || Date.now() > deadline) return other;
  }
}

/** Loopback TCP ports a process listens on (from /proc/net/tcp and its socket fds). */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && inodes.has(f[9])) // 0A: LISTEN
    .map((f) => parseInt(f[1].split(':')[1], 16));
}

/** Loopback TCP ports that the descendants of `pid` listen on. */
export function descendantPorts(pid) {
  const table = processTable();
  return [...table.keys()]
    .filter((p) => p !== pid && descends(table, p, pid))
    .flatMap((p) => {
      try {
        return listeningPorts(p);
      } catch {
        return []; // exited meanwhile
      }
    });
}
