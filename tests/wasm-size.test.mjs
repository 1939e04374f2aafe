// The Wasm's size budget: every isolate start pays to fetch and compile it, and Workers cap
// script size. Size, not time: deterministic for a given source and toolchain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WASM_GZIP_BUDGET_BYTES, buildRelease, wasmSize } from '../scripts/wasm.mjs';

test('the release Wasm fits its gzip budget', (t) => {
  buildRelease();
  const { raw, gzip } = wasmSize();
  t.diagnostic(
    `Wasm ${(raw / 1024).toFixed(1)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzip (budget ${WASM_GZIP_BUDGET_BYTES / 1024} KiB)`,
  );
  assert.ok(gzip <= WASM_GZIP_BUDGET_BYTES, `gzip Wasm is ${gzip} bytes, over the ${WASM_GZIP_BUDGET_BYTES}-byte budget`);
});
