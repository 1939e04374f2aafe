// The schema's contract (Story 1.1, AC #1-#6, and the story's defects), proven by pgTAP on a
// real Postgres whose migrations were applied only by `supabase db push`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  FIXTURE, ROOT, createSupabaseDatabase, dbPush, psql, startPostgres, stopProcess,
} from '../scripts/stack.mjs';

let pg;
let dir;
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenant-db-'));
  fs.chmodSync(dir, 0o755);
  pg = await startPostgres(dir);
});
after(async () => {
  await stopProcess(pg?.proc);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs pgTAP files with pg_prove; fails the test with pg_prove's output unless all pass. */
function pgProve(db, files) {
  try {
    return execFileSync('pg_prove', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', db, ...files], {
      cwd: ROOT, encoding: 'utf8', stdio: 'pipe',
    });
  } catch (e) {
    assert.fail(`pg_prove failed:\n${e.stdout}${e.stderr}`);
  }
}

const pgtapFiles = (folder) => fs.readdirSync(path.join(ROOT, folder))
  .filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(folder, f));

test('migrations apply to a fresh Supabase database and a second push is a no-op', () => {
  const url = createSupabaseDatabase(pg, 'fresh');
  const first = dbPush(url);
  assert.match(first, /Applying migration 20260106000005_seed_leadingwithmeaning_tenant\.sql/);
  const second = dbPush(url);
  assert.match(second, /Remote database is up to date/);
  assert.doesNotMatch(second, /Applying migration/);
});

test('every acceptance criterion and security outcome holds (supabase/tests, pgTAP)', () => {
  const files = pgtapFiles('supabase/tests');
  assert.ok(files.length >= 7, 'one file per AC plus the role matrix');
  const out = pgProve('fresh', files);
  assert.match(out, /Result: PASS/);
});

test('the platform fixture can be applied twice', () => {
  psql(pg.url('fresh'), { file: FIXTURE });
});

test('the seed for the local stack applies on top and a second push skips it', () => {
  const url = pg.url('fresh');
  dbPush(url, { seed: true });
  const count = psql(url, { sql: "select count(*) from public.tenant_profiles where custom_domain like '%.localhost'" });
  assert.ok(Number(count) >= 3, `demo tenants under .localhost: ${count}`);
  assert.match(dbPush(url, { seed: true }), /up to date/);
  pgProve('fresh', pgtapFiles('supabase/tests'));
});

test('migrations upgrade the existing app database, keeping its rows', () => {
  const url = createSupabaseDatabase(pg, 'legacy');
  psql(url, { file: path.join(ROOT, 'tests', 'fixtures', 'legacy_app_schema.sql') });
  const before = psql(url, { sql: 'select count(*) from public.campaign_assignments' });
  assert.ok(Number(before) > 0, 'the legacy database has assignments');
  dbPush(url);
  assert.equal(psql(url, { sql: 'select count(*) from public.participant_sessions' }), before);
  pgProve('legacy', ['tests/sql/legacy_upgrade.sql', ...pgtapFiles('supabase/tests')]);
});
