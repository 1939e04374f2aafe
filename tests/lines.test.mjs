// The line format in which headers cross between the Worker's Rust and its JS
// (src/edge/lines.js; src/lines.rs for Rust), and the forward path's uses of it in
// src/edge/forward.js. Pure logic, run natively under node: both sides read and write the same
// example, tests/fixtures/lines.txt, so what one writes the other reads.

import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headersOf, line, readLines } from '../src/edge/lines.js';
import { apply, describe, finish, headerLines } from '../src/edge/forward.js';

/** The example both sides read and write (src/lines.rs's tests for Rust). */
const EXAMPLE = readFileSync(new URL('fixtures/lines.txt', import.meta.url), 'utf8');

/** What EXAMPLE holds. */
const HEADERS = [
  [':status', '200'],
  ['content-type', 'text/html; charset=utf-8'],
  ['link', '<https://cdn.example/a.css>; rel=preload, <b: c>'],
  ['etag', ''],
  ['x-unicode', 'ünïcödé ✓'],
];

/** Every header of `lines`, as [name, value] pairs. */
function read(lines) {
  const pairs = [];
  readLines(lines, (name, value) => pairs.push([name, value]));
  return pairs;
}

test('the writer writes the example', () => {
  assert.equal(HEADERS.map(([name, value]) => line(name, value)).join(''), EXAMPLE);
});

test('the reader reads the example', () => {
  assert.deepEqual(read(EXAMPLE), HEADERS);
});

test('a value keeps the separators after its name', () => {
  assert.deepEqual(read(line('x', 'a: b: c')), [['x', 'a: b: c']]);
});

test('no lines read as no headers, and a line without a separator is skipped', () => {
  assert.deepEqual(read(''), []);
  assert.deepEqual(read('not a header\nx: 1'), [['x', '1']]);
});

test("a request's headers go out as lines and come back as the same headers", () => {
  const request = new Request('https://a.example/', { headers: { Accept: 'text/html', 'X-Note': 'a: b' } });
  const lines = headerLines(request);
  assert.equal(lines, 'accept: text/html\nx-note: a: b\n');
  assert.deepEqual([...headersOf(lines)], [...request.headers]);
});

test("the origin's answer is described by its status and the headers the rules read", () => {
  const origin = new Response('x', { status: 201, headers: { 'content-type': 'text/html', 'cache-control': 'no-cache', etag: '"1"' } });
  assert.equal(describe(origin), ':status: 201\ncontent-type: text/html\ncache-control: no-cache\n');
});

test('edits set each header and remove those with an empty value', () => {
  const headers = new Headers({ vary: 'Accept', etag: '"1"', 'content-length': '5', 'x-kept': 'yes' });
  apply(headers, `${line('vary', 'Accept, Host')}${line('cdn-cache-control', 'no-store')}${line('etag', '')}${line('content-length', '')}`);
  assert.deepEqual(Object.fromEntries(headers), { vary: 'Accept, Host', 'cdn-cache-control': 'no-store', 'x-kept': 'yes' });
});

test("a forwarded answer keeps the origin's body and status, with the edits applied", async () => {
  const origin = new Response('page', { status: 404, headers: { 'cache-control': 'public' } });
  const answer = finish(origin, line('cache-control', 'private'));
  assert.equal(answer.status, 404);
  assert.equal(answer.headers.get('cache-control'), 'private');
  assert.equal(await answer.text(), 'page');
});
