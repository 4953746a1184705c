// SPDX-License-Identifier: MIT
/** `doctor`'s node check: the minimum it names is package.json's `engines`, and `serve`'s node:sqlite minimum warns. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MIN_NODE, MIN_NODE_SQLITE, nodeCheck } from '../src/cli/doctor-command.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };

test("the node check's minimum is package.json's engines", () => {
  const m = /^>=(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(pkg.engines.node);
  assert.ok(m, `engines.node is ${pkg.engines.node}`);
  assert.equal(MIN_NODE, `${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`);
});

test('a Node older than engines fails, naming the minimum', () => {
  for (const v of ['20.20.2', '21.7.3', '18.20.8']) {
    const c = nodeCheck(v);
    assert.equal(c.ok, false, v);
    assert.equal(c.warning, undefined, v);
    assert.equal(c.detail, `v${v} is too old; chaarfm-worker needs Node.js 22 or newer`);
  }
});

test("a Node 22 without unflagged node:sqlite warns that serve's SQLite store needs 22.13", () => {
  assert.equal(MIN_NODE_SQLITE, '22.13.0');
  for (const v of ['22.0.0', '22.5.1', '22.12.0']) {
    const c = nodeCheck(v);
    assert.deepEqual([c.ok, c.warning], [false, true], v);
    assert.match(c.detail, new RegExp(`^v${v.replace(/\./g, '\\.')}: jobs work, but serve's SQLite store needs node:sqlite, built into Node\\.js 22\\.13 and newer`));
  }
});

test('Node 22.13 and newer pass; the platform follows the version', () => {
  for (const v of ['22.13.0', '22.23.5', '23.4.0', '24.22.3', '26.10.0']) assert.deepEqual(nodeCheck(v), { ok: true, detail: `v${v}` }, v);
  assert.deepEqual(nodeCheck('24.22.3', 'win32-x64'), { ok: true, detail: 'v24.22.3 (win32-x64)' });
  assert.equal(nodeCheck('20.20.2', 'linux-x64').detail, 'v20.20.2 (linux-x64) is too old; chaarfm-worker needs Node.js 22 or newer');
});
