// The Wasm's size budget: every isolate start pays to fetch and compile it, and Workers cap
// script size. Size, not time: deterministic for a given source and toolchain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT } from '../scripts/stack.mjs';

/** The budget from bench/README.md: at most 200 KiB gzipped. */
const GZIP_BUDGET_BYTES = 200 * 1024;

test('the release Wasm fits its gzip budget', (t) => {
  // The same build wrangler runs: the [build] command of wrangler.toml.
  const toml = fs.readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
  const command = toml.match(/^\[build\][^[]*?^command = "(.*)"$/m)?.[1];
  assert.ok(command, 'wrangler.toml has a [build] command');
  execSync(command, { cwd: ROOT, stdio: 'pipe' });
  const wasm = fs.readFileSync(path.join(ROOT, 'build', 'index_bg.wasm'));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  t.diagnostic(`Wasm ${(wasm.length / 1024).toFixed(1)} KiB raw, ${(gzipped / 1024).toFixed(1)} KiB gzip (budget ${GZIP_BUDGET_BYTES / 1024} KiB)`);
  assert.ok(gzipped <= GZIP_BUDGET_BYTES, `gzip Wasm is ${gzipped} bytes, over the ${GZIP_BUDGET_BYTES}-byte budget`);
});
