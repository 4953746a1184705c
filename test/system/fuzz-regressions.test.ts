// SPDX-License-Identifier: MIT
/**
 * The inputs the fuzz passes found, each pinned as a plain regression test: values nested
 * too deep for JSON.stringify and objects whose toString is not a function (both threw inside
 * a socket's message handler and ended the process: the coordinator on a worker frame, the
 * worker on a job frame), paths that start with `//` or `/\` (500), and a request body sent to
 * a route that does not read it (the connection was closed under the upload: no answer), and
 * command-line values that ended in "unexpected error", a stack trace and exit 70.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import type { CoordinatorHandle } from '../../src/coordinator/server.js';
import { readResult } from '../../src/coordinator/worker-socket.js';
import { parseServerFrame } from '../../src/protocol/messages.js';
import { RawClient, api, coordinator, capturedLogs, goodResult, newSession, socketUrl } from '../support/coordinator.js';
import { waitUntil } from '../support/wait.js';
import { BIN } from './support/fuzz-process.js';

const DEEP = '['.repeat(100000) + ']'.repeat(100000);
const NO_STRING = { toString: 1, valueOf: 1 };

let srv: CoordinatorHandle | null = null;
const raws: RawClient[] = [];
const logs = capturedLogs();

afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await srv?.close();
  srv = null;
  logs.reset();
});


function rawHttp(port: number, method: string, path: string, body?: Buffer): Promise<{ status: number | null; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: body ? { 'content-length': String(body.length) } : {} });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? null }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: null, error: e.code ?? e.message }));
    req.end(body);
  });
}

test('worker side: a job frame with a deeply nested value is refused with a reason, not thrown', () => {
  for (const frame of [
    `{"type":"job","job_id":"d1","payload":{"job_type":"fetch_genre","genre":"rock","limit":${DEEP}}}`,
    `{"type":"job","job_id":"d2","payload":{"job_type":${DEEP}}}`,
  ]) {
    const p = parseServerFrame(frame);
    assert.equal(p.ok, false);
    assert.ok(!p.ok && p.jobId && /an array of 1/.test(p.reason), JSON.stringify(p).slice(0, 200));
  }
  const p = parseServerFrame(JSON.stringify({ type: 'job', job_id: 'd3', payload: { job_type: 'fetch_genre', genre: 'x', limit: NO_STRING } }));
  assert.ok(!p.ok && /payload\.limit but received an object/.test(p.reason));
});

test('coordinator: a result whose status is nested deep, or a type with no usable toString, leaves the socket and the process up', async () => {
  srv = await coordinator({ logger: logs.logger() });
  const r = readResult(JSON.parse(`{"type":"result","job_id":"x","status":${DEEP}}`) as Record<string, unknown>);
  assert.ok(r && r.status === 'invalid' && /received an array of 1/.test(r.reason));
  const code = await newSession(srv.url);
  const w = await RawClient.connect(socketUrl(srv.url, code));
  raws.push(w);
  await api(srv.url, `/api/sessions/${code}/jobs`, { body: { lines: ['A - B'] } });
  await waitUntil(() => w.jobs().length === 1, 5000, 'a job');
  const id = w.jobs()[0].job_id;
  w.send(JSON.stringify({ type: NO_STRING }));
  w.send(`{"type":${DEEP}}`);
  w.send(`{"type":"result","job_id":"${id}","status":${DEEP}}`);
  w.send(goodResult(id));
  await waitUntil(async () => (await api<unknown[]>(srv!.url, `/api/sessions/${code}/results`)).body.length === 1, 5000, 'the good result stored');
  assert.equal(w.closed, null);
  assert.deepEqual(logs.lines.filter((l) => l.level === 'error'), []);
});

test('coordinator API: objects without a usable toString get a 4xx with a reason, never a 500', async () => {
  srv = await coordinator({ logger: logs.logger() });
  const code = await newSession(srv.url);
  const c1 = await api<{ message: string }>(srv.url, `/api/sessions/${code}/control`, { body: { type: 'start', mode: NO_STRING } });
  assert.equal(c1.status, 409);
  assert.match(c1.body.message, /Unknown start mode an object/);
  const c2 = await api<{ message: string }>(srv.url, `/api/sessions/${code}/control`, { body: { type: 'start', mode: 'genre', genre: 'rock', requestedCount: NO_STRING } });
  assert.equal(c2.status, 409);
  assert.match(c2.body.message, /requestedCount but received an object/);
  const c3 = await api<{ message: string }>(srv.url, `/api/sessions/${code}/control`, {
    raw: `{"type":"start","mode":"genre","genre":"rock","requestedCount":${DEEP}}`,
    type: 'application/json',
  });
  assert.equal(c3.status, 409);
  const j = await api<{ added: number; invalid: unknown[] }>(srv.url, `/api/sessions/${code}/jobs`, { body: { lines: [NO_STRING, 'A - B'], start: false } });
  assert.equal(j.status, 200);
  assert.equal(j.body.added, 1);
  assert.equal(j.body.invalid.length, 1);
  const s = await api(srv.url, '/api/sessions', { body: { ttl_hours: NO_STRING } });
  assert.equal(s.status, 400);
  // the page socket: the same message answered, not dropped
  const ui = await RawClient.connect(socketUrl(srv.url, code, 'ui'));
  raws.push(ui);
  ui.send({ type: 'start', mode: NO_STRING });
  const answer = await waitUntil(() => ui.messages.find((m) => m.type === 'control'), 5000, 'a control answer');
  assert.equal(answer.ok, false);
  assert.deepEqual(logs.lines.filter((l) => l.level === 'error'), []);
});

test('coordinator API: paths starting with // or /\\ are paths (404), not a 500', async () => {
  srv = await coordinator({ logger: logs.logger() });
  for (const path of ['//x', '//0]"/y', '/\\x', '//api//sessions', '//[::1', '/\\\\evil.example/']) {
    const r = await rawHttp(srv.port, 'GET', path);
    assert.equal(r.status, 404, `${path}: ${r.status ?? r.error}`);
  }
  assert.deepEqual(logs.lines.filter((l) => l.level === 'error'), []);
});

test('coordinator API: a body sent to a route that does not read it still gets the answer', async () => {
  srv = await coordinator({ logger: logs.logger() });
  const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
  for (const [method, path, want] of [
    ['GET', '/api/keepalive', 200],
    ['DELETE', '/ingest', 404],
    ['POST', '/api/sessions/ZZZZZ-ZZZZZ/jobs', 404],
    ['PUT', '/nowhere', 404],
  ] as const) {
    const r = await rawHttp(srv.port, method, path, body);
    assert.equal(r.status, want, `${method} ${path}: ${r.status ?? r.error}`);
  }
});

test('CLI: a bad --output-node, --ffmpeg or --host is one line and exit 1, not an unexpected error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfw-fuzz-reg-'));
  try {
    for (const [args, msg] of [
      [['vectorize', '--backend', 'wasm', '--output-node', 'NaN', 'x.wav'], /Expected a node of .+ for the output node but received "NaN"/],
      [['vectorize', '--backend', 'wasm', '--ffmpeg', 'no-such-ffmpeg', 'x.wav'], /ffmpeg is not available .*"no-such-ffmpeg"/],
      [['serve', '--port', '0', '--db', join(dir, 'a.db'), '--host', 'no-such-host.invalid'], /Cannot listen on --host "no-such-host\.invalid": not an address of this machine/],
      [['serve', '--port', '0', '--db', join(dir, 'b.db'), '--host', ''], /Expected an address for --host .* but received an empty value/],
    ] as const) {
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60000, cwd: dir });
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
