// The schema's contract (Story 1.1, AC #1-#6, the story's defects, issue 9's findings 6-8 and
// issue 10's tenant change feed), proven by pgTAP on a real Postgres whose migrations were
// applied only by `supabase db push`: to a fresh Supabase database, to the existing app
// database, and to a minimal one.

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

/** The migration files, in order, and their versions (the digits before the first `_`). */
const MIGRATIONS = fs.readdirSync(path.join(ROOT, 'migrations')).filter((f) => f.endsWith('.sql')).sort();
const VERSIONS = MIGRATIONS.map((f) => f.split('_')[0]);

/**
 * Runs pgTAP files with pg_prove; fails the test with pg_prove's output unless all pass. The
 * files see the migration versions as the psql variable `migration_versions` (comma-separated).
 */
function pgProve(db, files) {
  const args = ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', db,
    '--set', `migration_versions=${VERSIONS.join(',')}`, ...files];
  try {
    return execFileSync('pg_prove', args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(`pg_prove failed:\n${e.stdout}${e.stderr}`);
  }
}

const pgtapFiles = (folder) => fs.readdirSync(path.join(ROOT, folder))
  .filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(folder, f));

/** Pushes the migrations to `url`: every file is applied once, and a second push changes nothing. */
function pushTwice(url) {
  const first = dbPush(url);
  for (const file of MIGRATIONS) assert.ok(first.includes(`Applying migration ${file}`), `${file} applied:\n${first}`);
  const second = dbPush(url);
  assert.match(second, /Remote database is up to date/);
  assert.doesNotMatch(second, /Applying migration/);
}

test('migrations apply to a fresh Supabase database and a second push is a no-op', () => {
  pushTwice(createSupabaseDatabase(pg, 'fresh'));
});

test('every acceptance criterion and security outcome holds (supabase/tests, pgTAP)', () => {
  const files = pgtapFiles('supabase/tests');
  assert.ok(files.length >= 7, 'one file per AC plus the role matrix');
  const out = pgProve('fresh', files);
  assert.match(out, /Result: PASS/);
});

test('a tenant change is stamped in the feed when its transaction ends, not when it began (a real commit)', () => {
  // pgTAP rolls back, so only here does the deferred trigger fire at a real commit.
  const url = pg.url('fresh');
  const id = '0c000000-0000-4000-8000-00000000c0de';
  try {
    psql(url, {
      sql: `begin;
        insert into public.tenant_profiles (id, slug, display_name, brand_config)
        select '${id}', 'commit-stamp', 'Commit stamp', brand_config from public.tenant_profiles where slug = 'leadingwithmeaning';
        select pg_sleep(1);
        commit;`,
    });
    const lag = psql(url, {
      sql: `select extract(epoch from c.changed_at - p.created_at)
        from public.tenant_changes as c
        join public.tenant_profiles as p on c.tenant_hash = encode(sha256(convert_to(p.id::text, 'UTF8')), 'hex')
        where p.id = '${id}'`,
    });
    assert.ok(Number(lag) >= 1, `one change, stamped at least 1 s after the transaction began: ${JSON.stringify(lag)}`);
  } finally {
    psql(url, { sql: `delete from public.tenant_profiles where id = '${id}'` });
  }
});

test('the brand contract: the database CHECK accepts exactly the valid documents of the shared corpus', () => {
  const corpus = fs.readFileSync(path.join(ROOT, 'schema', 'corpus', 'brand-config.json'), 'utf8');
  assert.ok(!corpus.includes('$corpus$'), 'the corpus can be dollar-quoted');
  const disagreements = psql(pg.url('fresh'), {
    sql: `select coalesce(json_agg(c ->> 'name'), '[]')
      from jsonb_array_elements($corpus$${corpus}$corpus$::jsonb) as c
      where public.is_valid_brand_config(c -> 'document') is distinct from (c ->> 'valid')::boolean`,
  });
  assert.deepEqual(JSON.parse(disagreements), []);
  const count = psql(pg.url('fresh'), { sql: `select jsonb_array_length($corpus$${corpus}$corpus$::jsonb)` });
  assert.ok(Number(count) >= 50, `${count} documents`);
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

/**
 * Makes database `db` the app's database of another era (`tests/fixtures/<db>_app_schema.sql`),
 * pushes the migrations twice, and checks that every assignment survived and that the pgTAP
 * suite and `tests/sql/<db>_upgrade.sql` hold on it.
 */
function assertUpgrade(db) {
  const url = createSupabaseDatabase(pg, db);
  psql(url, { file: path.join(ROOT, 'tests', 'fixtures', `${db}_app_schema.sql`) });
  const before = psql(url, { sql: 'select count(*) from public.campaign_assignments' });
  assert.ok(Number(before) > 0, `the ${db} database has assignments`);
  pushTwice(url);
  assert.equal(psql(url, { sql: 'select count(*) from public.participant_sessions' }), before);
  pgProve(db, [...pgtapFiles('supabase/tests'), `tests/sql/${db}_upgrade.sql`]);
}

test('migrations upgrade the existing app database, keeping its rows', () => assertUpgrade('legacy'));

test('migrations upgrade a minimal app database (tables with little more than their ids), keeping every row and column', () =>
  assertUpgrade('minimal'));
