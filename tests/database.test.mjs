// The schema's contract (Story 1.1, AC #1-#6, the story's defects, issue 9's findings 6-8,
// issue 10's tenant change feed, issue 19's Security Advisor), proven by pgTAP on real Postgres
// 15 and 17 shaped like hosted Supabase (tests/fixtures/supabase_platform.sql: `postgres` is
// not a superuser), whose migrations were applied only by `supabase db push` as `postgres`: to
// a fresh Supabase database, to one created without default privileges for new tables, to the
// existing app database, and to a minimal one. Every test name says which Postgres it ran on.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ADMIN,
  FIXTURE,
  POSTGRES_VERSIONS,
  ROOT,
  createSupabaseDatabase,
  dbPush,
  mintJwt,
  psql,
  startPostgres,
  startPostgrest,
  stopProcess,
} from '../scripts/stack.mjs';
import { TENANTS, USERS } from './support/tenants.mjs';

/** The migration files, in order, and their versions (the digits before the first `_`). */
const MIGRATIONS = fs
  .readdirSync(path.join(ROOT, 'migrations'))
  .filter((f) => f.endsWith('.sql'))
  .sort();
const VERSIONS = MIGRATIONS.map((f) => f.split('_')[0]);

const pgtapFiles = (folder) =>
  fs
    .readdirSync(path.join(ROOT, folder))
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => path.join(folder, f));

const ADVISOR = 'supabase/tests/15_security_advisor.sql';

/**
 * Runs pgTAP files with pg_prove as `postgres` (not a superuser, as on hosted Supabase); fails
 * the test with pg_prove's output unless all pass. The files see the migration versions as the
 * psql variable `migration_versions` (comma-separated).
 */
function pgProve(pg, db, files) {
  try {
    return execFileSync('pg_prove', proveArgs(pg, db, files), { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(`pg_prove failed on Postgres ${pg.version}:\n${e.stdout}${e.stderr}`);
  }
}

/** pg_prove's output when it fails, or null when every file passed. */
function pgProveFailure(pg, db, files) {
  try {
    execFileSync('pg_prove', proveArgs(pg, db, files), { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
    return null;
  } catch (e) {
    return `${e.stdout}${e.stderr}`;
  }
}

const proveArgs = (pg, db, files) => [
  '-h',
  '127.0.0.1',
  '-p',
  String(pg.port),
  '-U',
  'postgres',
  '-d',
  db,
  '--set',
  `migration_versions=${VERSIONS.join(',')}`,
  ...files,
];

/**
 * A new Supabase-shaped database with pgTAP, which only a superuser may create: the harness
 * creates it as supabase_admin, never a migration.
 */
function createDatabase(pg, db, options) {
  const url = createSupabaseDatabase(pg, db, options);
  psql(pg.adminUrl(db), { sql: 'create extension if not exists pgtap with schema extensions' });
  return url;
}

/** Pushes the migrations to `url`: every file is applied once, and a second push changes nothing. */
function pushTwice(url) {
  const first = dbPush(url);
  for (const file of MIGRATIONS) assert.ok(first.includes(`Applying migration ${file}`), `${file} applied:\n${first}`);
  const second = dbPush(url);
  assert.match(second, /Remote database is up to date/);
  assert.doesNotMatch(second, /Applying migration/);
}

/** Pushes the migrations in `files` ({name: sql}) from a project of their own; returns the failure. */
function pushFailure(url, files) {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenant-probe-'));
  try {
    fs.mkdirSync(path.join(workdir, 'supabase', 'migrations'), { recursive: true });
    for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(workdir, 'supabase', 'migrations', name), sql);
    const out = execFileSync(
      path.join(ROOT, 'node_modules', '.bin', 'supabase'),
      ['db', 'push', `--remote=${url}`, '--yes', '--workdir', workdir],
      {
        encoding: 'utf8',
        stdio: 'pipe',
        env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1' },
      },
    );
    return assert.fail(`the push succeeded:\n${out}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return `${e.stdout}${e.stderr}`;
  } finally {
    fs.rmSync(workdir, { recursive: true, force: true });
  }
}

test('docs/database.md names every Security Advisor exception the advisor check allows', () => {
  const block = fs
    .readFileSync(path.join(ROOT, ADVISOR), 'utf8')
    .split('-- advisor exceptions: begin')[1]
    .split('-- advisor exceptions: end')[0];
  const exceptions = [...block.matchAll(/\('([a-z_]+)', '([^']+)'\)/g)].map(([, lint, object]) => ({ lint, object }));
  assert.ok(exceptions.length > 0, block);
  const docs = fs.readFileSync(path.join(ROOT, 'docs/database.md'), 'utf8').split('## Advisor exceptions')[1] ?? '';
  for (const { lint, object } of exceptions) {
    assert.ok(docs.includes(`\`${lint}\``) && docs.includes(`\`${object}\``), `${lint} on ${object}`);
  }
});

for (const version of POSTGRES_VERSIONS) {
  describe(`Postgres ${version}`, () => {
    let pg;
    let dir;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenant-db-'));
      fs.chmodSync(dir, 0o755);
      pg = await startPostgres(dir, { version });
    });
    after(async () => {
      await stopProcess(pg?.proc);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const on = (what) => `Postgres ${version}: ${what}`;

    test(on('the server runs this major, and the fixture gives its roles what hosted Supabase gives them'), () => {
      const url = createDatabase(pg, 'fresh');
      assert.equal(psql(url, { sql: 'show server_version_num' }).slice(0, 2), String(version));
      const roles = JSON.parse(
        psql(url, {
          sql: `select json_object_agg(rolname, json_build_array(rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin))
          from pg_roles where rolname in ('postgres', 'supabase_admin', 'supabase_auth_admin', 'anon', 'authenticated', 'service_role', 'authenticator')`,
        }),
      );
      // [superuser, inherit, createrole, createdb, bypassrls, login]
      assert.deepEqual(roles, {
        postgres: [false, true, true, true, true, true],
        supabase_admin: [true, true, true, true, true, true],
        supabase_auth_admin: [false, false, false, false, false, true],
        anon: [false, true, false, false, false, false],
        authenticated: [false, true, false, false, false, false],
        service_role: [false, true, false, false, true, false],
        authenticator: [false, false, false, false, false, true],
      });
      const facts = JSON.parse(
        psql(url, {
          sql: `select json_build_object(
          'postgres_acts_as', (select json_agg(r order by r) from unnest(array['anon', 'authenticated', 'service_role', 'authenticator']) r
                               where pg_has_role('postgres', r, 'member')),
          'owners', (select json_agg(o order by o) from (
                       select 'auth.users ' || pg_get_userbyid(relowner) o from pg_class where oid = 'auth.users'::regclass
                       union all select 'auth.uid() ' || pg_get_userbyid(proowner) from pg_proc where oid = 'auth.uid()'::regprocedure
                       union all select 'database ' || pg_get_userbyid(datdba) from pg_database where datname = current_database()) t),
          'postgres_creates_in_auth', has_schema_privilege('postgres', 'auth', 'create'),
          'postgres_writes_auth_users', has_table_privilege('postgres', 'auth.users', 'insert'))`,
        }),
      );
      assert.deepEqual(facts, {
        postgres_acts_as: ['anon', 'authenticated', 'authenticator', 'service_role'],
        owners: ['auth.uid() supabase_auth_admin', 'auth.users supabase_auth_admin', `database ${ADMIN}`],
        postgres_creates_in_auth: false,
        postgres_writes_auth_users: true,
      });
    });

    test(on('migrations apply, as the non-superuser postgres, to a fresh Supabase database and a second push is a no-op'), () => {
      const url = pg.url('fresh');
      assert.equal(psql(url, { sql: 'select rolsuper from pg_roles where rolname = current_user' }).trim(), 'f');
      pushTwice(url);
    });

    test(on('a migration that needs a superuser fails the push (alter system, an extension that is not trusted)'), () => {
      createSupabaseDatabase(pg, 'superuser_probe');
      const url = pg.url('superuser_probe');
      assert.match(
        pushFailure(url, { '20990101000001_tune_memory.sql': "alter system set work_mem = '8MB';\n" }),
        /permission denied to set parameter "work_mem"/,
      );
      assert.match(
        pushFailure(url, { '20990101000002_read_files.sql': 'create extension file_fdw with schema extensions;\n' }),
        /permission denied to create extension "file_fdw"/,
      );
    });

    test(on('every acceptance criterion, security outcome and Security Advisor check holds (supabase/tests, pgTAP)'), () => {
      const files = pgtapFiles('supabase/tests');
      assert.ok(files.length >= 7, 'one file per AC plus the role matrix');
      assert.ok(files.includes(ADVISOR), 'the advisor check runs with the suite');
      const out = pgProve(pg, 'fresh', files);
      assert.match(out, /Result: PASS/);
    });

    test(on('the advisor check fails on a table without RLS and on a security definer view'), () => {
      const url = pg.url('fresh');
      psql(url, {
        sql: `create table public.advisor_probe (id int primary key);
          create view public.advisor_probe_view as select id from public.advisor_probe;
          grant select on public.advisor_probe, public.advisor_probe_view to anon, authenticated;`,
      });
      try {
        const failure = pgProveFailure(pg, 'fresh', [ADVISOR]);
        assert.ok(failure, 'the advisor check passed');
        assert.match(failure, /rls_disabled_in_public[\s\S]*ERROR public\.advisor_probe\b/);
        assert.match(failure, /security_definer_view[\s\S]*ERROR public\.advisor_probe_view/);
      } finally {
        psql(url, { sql: 'drop view public.advisor_probe_view; drop table public.advisor_probe;' });
      }
      pgProve(pg, 'fresh', [ADVISOR]);
    });

    test(on('a tenant change is stamped in the feed when its transaction ends, not when it began (a real commit)'), () => {
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

    test(on('the brand contract: the database CHECK accepts exactly the valid documents of the shared corpus'), () => {
      const corpus = fs.readFileSync(path.join(ROOT, 'schema', 'corpus', 'brand-config.json'), 'utf8');
      assert.ok(!corpus.includes('$corpus$'), 'the corpus can be dollar-quoted');
      // Through a file: the corpus outgrew what one command-line argument may hold (128 KiB).
      const query = (sql) => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'corpus-')), 'query.sql');
        fs.writeFileSync(file, sql);
        return psql(pg.url('fresh'), { file });
      };
      const disagreements = query(`select coalesce(json_agg(c ->> 'name'), '[]')
          from jsonb_array_elements($corpus$${corpus}$corpus$::jsonb) as c
          where public.is_valid_brand_config(c -> 'document') is distinct from (c ->> 'valid')::boolean`);
      assert.deepEqual(JSON.parse(disagreements), []);
      const count = query(`select jsonb_array_length($corpus$${corpus}$corpus$::jsonb)`);
      assert.ok(Number(count) >= 50, `${count} documents`);
    });

    test(on('the platform fixture can be applied twice'), () => {
      psql(pg.adminUrl('fresh'), { file: FIXTURE });
    });

    test(on('the seed for the local stack applies on top and a second push skips it'), () => {
      const url = pg.url('fresh');
      dbPush(url, { seed: true });
      const count = psql(url, { sql: "select count(*) from public.tenant_profiles where custom_domain like '%.localhost'" });
      assert.ok(Number(count) >= 3, `demo tenants under .localhost: ${count}`);
      assert.match(dbPush(url, { seed: true }), /up to date/);
      pgProve(pg, 'fresh', pgtapFiles('supabase/tests'));
    });

    test(
      on(
        "a database without default privileges for new tables (auto_expose_new_tables = false): migrations, pgTAP and the Worker's reads through PostgREST",
      ),
      async () => {
        const db = 'unexposed';
        const url = createDatabase(pg, db, { exposeNewTables: false });
        psql(url, { sql: 'create table public.exposure_probe (id int)' });
        assert.equal(
          psql(url, { sql: "select has_table_privilege('anon', 'public.exposure_probe', 'select')" }).trim(),
          'f',
          'a new table is not exposed to anon there',
        );
        psql(url, { sql: 'drop table public.exposure_probe' });
        pushTwice(url);
        dbPush(url, { seed: true });
        pgProve(pg, db, pgtapFiles('supabase/tests'));

        const jwtSecret = randomBytes(32).toString('hex');
        const postgrest = await startPostgrest(pg, db, { dir, jwtSecret });
        try {
          const anon = mintJwt(jwtSecret, { role: 'anon' });
          const get = async (route, { token = anon, headers = {}, method = 'GET', body } = {}) => {
            const res = await fetch(`${postgrest.url}${route}`, {
              method,
              body,
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
            });
            return { status: res.status, body: await res.json() };
          };
          const { slug } = TENANTS.northstar;
          const lookup = `/tenant_profiles?select=id,slug,display_name,brand_config&slug=eq.${slug}`;
          const named = await get(lookup, { headers: { 'x-tenant-lookup': `slug:${slug}` } });
          assert.equal(named.status, 200, JSON.stringify(named.body));
          assert.deepEqual(
            named.body.map((t) => t.slug),
            [slug],
            'an anon lookup that names the tenant finds it',
          );
          assert.deepEqual((await get(lookup)).body, [], 'a lookup that names no tenant finds none');
          const since = new Date(Date.now() - 15 * 60_000).toISOString();
          const feed = await get('/rpc/tenant_changes_since', { method: 'POST', body: JSON.stringify({ since, max_changes: 5 }) });
          assert.equal(feed.status, 200, JSON.stringify(feed.body));
          assert.ok(feed.body.length > 0, 'the change feed reads');
          const domain = TENANTS.northstar.domain;
          const byDomain = await get(`/tenant_domains?select=status,tenant:tenant_profiles(slug)&hostname=eq.${domain}`, {
            headers: { 'x-tenant-lookup': `domain:${domain}` },
          });
          assert.deepEqual(byDomain.body, [{ status: 'active', tenant: { slug } }], 'a lookup by domain finds its tenant');
          const owner = mintJwt(jwtSecret, { role: 'authenticated', sub: TENANTS.northstar.owner, aud: 'authenticated' });
          const me = await get('/rpc/my_tenant_profile', { token: owner, method: 'POST', body: '{}' });
          assert.equal(me.status, 200, JSON.stringify(me.body));
          assert.deepEqual(
            me.body.map((t) => [t.slug, t.user_id]),
            [[slug, USERS.nora]],
            'an owner reads their own profile',
          );
        } finally {
          await stopProcess(postgrest.proc);
        }
      },
    );

    /**
     * Makes database `db` the app's database of another era (`tests/fixtures/<db>_app_schema.sql`,
     * created by postgres as the app did), pushes the migrations twice, and checks that every
     * assignment survived and that the pgTAP suite and `tests/sql/<db>_upgrade.sql` hold on it.
     */
    function assertUpgrade(db) {
      const url = createDatabase(pg, db);
      psql(url, { file: path.join(ROOT, 'tests', 'fixtures', `${db}_app_schema.sql`) });
      const before = psql(url, { sql: 'select count(*) from public.campaign_assignments' });
      assert.ok(Number(before) > 0, `the ${db} database has assignments`);
      pushTwice(url);
      assert.equal(psql(url, { sql: 'select count(*) from public.participant_sessions' }), before);
      pgProve(pg, db, [...pgtapFiles('supabase/tests'), `tests/sql/${db}_upgrade.sql`]);
    }

    test(on('migrations upgrade the existing app database, keeping its rows'), () => assertUpgrade('legacy'));

    test(on('migrations upgrade a minimal app database (tables with little more than their ids), keeping every row and column'), () =>
      assertUpgrade('minimal'),
    );
  });
}
