// The brand contract (issue 11): the JSON Schema accepts exactly the documents of the shared
// corpus that are marked valid (the database CHECK and the Worker are held to the same corpus
// in tests/database.test.mjs and crates/common/src/brand.rs), the Worker's answers on the real stack (by slug,
// id, domain and Host) are what the public tenant schema describes (its maintenance switch as the
// database's CHECK has it, issue 28), and the committed TypeScript
// types are what json-schema-to-typescript generates from the schemas (`npm run types`
// regenerates them).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { compileFromFile } from 'json-schema-to-typescript';
import { ROOT, startStack } from '../scripts/stack.mjs';
import { TENANTS, client } from './support/tenants.mjs';

const SCHEMA = path.join(ROOT, 'schema');
const read = (file) => JSON.parse(fs.readFileSync(path.join(SCHEMA, file), 'utf8'));
const corpus = read('corpus/brand-config.json');

/** A validator for both schemas (tenant.schema.json refers to brand-config.schema.json). */
function validators() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addSchema(read('brand-config.schema.json'), 'brand-config.schema.json');
  ajv.addSchema(read('tenant.schema.json'), 'tenant.schema.json');
  return { brand: ajv.getSchema('brand-config.schema.json'), tenant: ajv.getSchema('tenant.schema.json') };
}

test('the corpus has dozens of documents, valid and invalid, the injection attempts among them', () => {
  assert.ok(corpus.length >= 50, `${corpus.length} documents`);
  assert.ok(corpus.filter((c) => c.valid).length >= 15);
  assert.ok(corpus.some((c) => !c.valid && JSON.stringify(c.document).includes('</style><script>')));
});

test('the JSON Schema accepts exactly the valid documents of the corpus', () => {
  const { brand } = validators();
  const disagreements = corpus
    .filter((c) => brand(c.document) !== c.valid)
    .map((c) => `${c.name}: schema says ${!c.valid}${brand.errors ? ` (${brand.errors[0].instancePath} ${brand.errors[0].message})` : ''}`);
  assert.deepEqual(disagreements, []);
});

test("the public tenant JSON's maintenance is null or a message and a delay, as the database's CHECK has it", () => {
  const { tenant } = validators();
  const served = {
    id: '00000000-0000-4000-8000-000000000001',
    slug: 'acme',
    displayName: 'Acme',
    tenantType: 'coach',
    customDomain: null,
    enabledAssessments: [],
    brand: corpus[0].document,
  };
  const accepts = (maintenance) => tenant({ ...served, maintenance });
  assert.ok(accepts(null), 'off');
  assert.ok(accepts({ message: 'Back soon.', retryAfterSeconds: 3600 }), 'on');
  assert.ok(accepts({ message: 'x'.repeat(500), retryAfterSeconds: 604800 }), 'at the bounds');
  assert.ok(!tenant(served), 'required: off is null, never absent');
  for (const maintenance of [
    { message: '', retryAfterSeconds: 60 },
    { message: 'x'.repeat(501), retryAfterSeconds: 60 },
    { message: 'line\nbreak', retryAfterSeconds: 60 },
    { message: 'Back soon.', retryAfterSeconds: 0 },
    { message: 'Back soon.', retryAfterSeconds: 604801 },
    { message: 'Back soon.', retryAfterSeconds: 1.5 },
    { message: 'Back soon.' },
    { message: 'Back soon.', retryAfterSeconds: 60, until: 'tomorrow' },
    false,
  ]) {
    assert.ok(!accepts(maintenance), JSON.stringify(maintenance));
  }
});

describe('on the real stack', () => {
  let stack;
  let call;
  before(async () => {
    stack = await startStack({ seed: true });
    call = client(stack.worker.url);
  });
  after(async () => {
    await stack?.stop();
  });

  test('the public tenant schema describes what the Worker serves', async () => {
    const { tenant } = validators();
    for (const t of [TENANTS.northstar, TENANTS.acme]) {
      const answers = [
        ['by slug', `/_tenant/slug/${t.slug}`],
        ['by id', `/_tenant/id/${t.id}`],
        ['by domain', `/_tenant/domain/${t.domain}`],
        ['by its own Host', '/_tenant/brand.json', t.domain],
      ];
      for (const [how, route, host] of answers) {
        const res = await call(route, { host });
        assert.equal(res.status, 200, `${t.slug} ${how}: ${res.body}`);
        const served = res.json();
        assert.equal(served.slug, t.slug, `${t.slug} ${how}`);
        assert.ok(tenant(served), `${t.slug} ${how}: ${JSON.stringify(tenant.errors)}`);
        assert.ok(!tenant({ ...served, emailConfig: {} }), `${t.slug} ${how}: the schema refuses a private field`);
        assert.ok(!tenant({ ...served, brand: { ...served.brand, colors: {} } }), `${t.slug} ${how}: and a brand without colors`);
      }
    }
  });
});

test('the committed TypeScript types are what the schemas generate', async () => {
  for (const name of ['brand-config', 'tenant', 'event', 'control-event']) {
    const generated = await compileFromFile(path.join(SCHEMA, `${name}.schema.json`), { cwd: SCHEMA });
    const committed = fs.readFileSync(path.join(SCHEMA, `${name}.d.ts`), 'utf8');
    assert.equal(committed, generated, `schema/${name}.d.ts is stale: run npm run types`);
  }
});
