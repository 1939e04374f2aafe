// The coach API's contract (issue 17): schema/domain.schema.json and domain-list.schema.json
// describe what the control plane answers (tests/control.test.mjs checks every answer of the
// real stack against them), and the committed TypeScript types are what they generate
// (`npm run types` regenerates them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { compileFromFile } from 'json-schema-to-typescript';
import { SCHEMA, domainValidators } from './support/domain-schema.mjs';

const pending = {
  hostname: 'coach.example.test',
  status: 'pending',
  primary: false,
  ssl: 'pending_validation',
  verifiedAt: null,
  ownershipVerifiedAt: '2026-12-02T10:01:00.000Z',
  errors: ['custom hostname does not CNAME to this zone.'],
  dns: [
    { type: 'CNAME', name: 'coach.example.test', value: 'customers.coachplatform.com' },
    { type: 'TXT', name: '_coachplatform-challenge.coach.example.test', value: '0f73f020e7894d42bc0a19cd546c8c6c' },
    { type: 'TXT', name: '_cf-custom-hostname.coach.example.test', value: '5cc07c04-ea62-4a5a-95f0-419334a875a4', optional: true },
  ],
  ready: false,
  diagnosis: {
    code: 'cname_elsewhere',
    fix: 'coach.example.test is a CNAME to shop.other.test: change that record to point to customers.coachplatform.com instead.',
    pointsTo: 'shop.other.test',
    checkedAt: '2026-12-02T10:02:00.000Z',
  },
};

test('the domain schema accepts what the control plane answers, and nothing looser', () => {
  const { domain, list } = domainValidators();
  assert.ok(domain(pending), JSON.stringify(domain.errors));
  assert.ok(domain({ ...pending, status: 'active', primary: true, ssl: 'active', verifiedAt: '2026-12-02T10:05:00.000Z', errors: [] }));
  assert.ok(list({ domains: [pending] }));
  assert.ok(list({ domains: [] }));
  for (const [what, bad] of [
    ['an unknown status', { ...pending, status: 'verified' }],
    ['an uppercase hostname', { ...pending, hostname: 'Coach.Example.test' }],
    ['a private column', { ...pending, cloudflare_id: 'x' }],
    ['a record marked optional: false', { ...pending, dns: [{ ...pending.dns[0], optional: false }] }],
    ['another record type', { ...pending, dns: [{ type: 'A', name: 'x', value: '1.2.3.4' }] }],
    ['no dns', { ...pending, dns: undefined }],
    ['no ownershipVerifiedAt', { ...pending, ownershipVerifiedAt: undefined }],
    ['no ready', { ...pending, ready: undefined }],
    ['no diagnosis', { ...pending, diagnosis: undefined }],
    ['an unknown diagnosis code', { ...pending, diagnosis: { ...pending.diagnosis, code: 'broken' } }],
    ['a diagnosis without its fix', { ...pending, diagnosis: { ...pending.diagnosis, fix: undefined } }],
  ]) {
    assert.ok(!domain(bad), what);
  }
  assert.ok(!list([pending]), 'the list is an object');
});

test('the committed TypeScript types are what the domain schemas generate', async () => {
  for (const name of ['domain', 'domain-list']) {
    const generated = await compileFromFile(path.join(SCHEMA, `${name}.schema.json`), { cwd: SCHEMA });
    const committed = fs.readFileSync(path.join(SCHEMA, `${name}.d.ts`), 'utf8');
    assert.equal(committed, generated, `schema/${name}.d.ts is stale: run npm run types`);
  }
});
