// The coach API's JSON Schemas (schema/domain.schema.json, schema/domain-list.schema.json) as
// validators, for the contract test and for every answer of the control plane in the tests.

import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { ROOT } from '../../scripts/stack.mjs';

export const SCHEMA = path.join(ROOT, 'schema');

/** `{ domain, list }`: Ajv validators of one domain and of `GET /domains`' answer. */
export function domainValidators() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const read = (file) => JSON.parse(fs.readFileSync(path.join(SCHEMA, file), 'utf8'));
  ajv.addSchema(read('domain.schema.json'), 'domain.schema.json');
  ajv.addSchema(read('domain-list.schema.json'), 'domain-list.schema.json');
  return { domain: ajv.getSchema('domain.schema.json'), list: ajv.getSchema('domain-list.schema.json') };
}
