// What /proc tells about processes: the process tree, and the loopback ports a process's
// descendants listen on. Used to find the Worker's own workerd port behind wrangler dev's proxy
// (scripts/stack.mjs) and by the benchmark's CPU accounting (bench/proc.mjs).

import fs from 'node:fs';

/** pid → { ppid, ticks (user + system, own and reaped children) } for every process. */
export function processTable() {
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

export const descends = (table, pid, ancestor) => {
  for (let p = pid; p > 1; p = table.get(p)?.ppid ?? 0) if (p === ancestor) return true;
  return false;
};

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
  return fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
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

/** The descendant of `pid` that listens on `port`, if any: the Worker's own workerd process. */
export function portOwner(pid, port) {
  const table = processTable();
  return [...table.keys()].find((p) => {
    if (p === pid || !descends(table, p, pid)) return false;
    try {
      return listeningPorts(p).includes(port);
    } catch {
      return false; // exited meanwhile
    }
  });
}

/** The CPU a process has used so far (user + system), in ms. */
export function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
}

/** Linux's USER_HZ: the unit of /proc/<pid>/stat's times (100 on every Linux this runs on). */
const CLOCK_TICKS = 100;
