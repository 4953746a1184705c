// SPDX-License-Identifier: MIT
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepaliveUrl, normaliseCode, normaliseServerUrl, workerSocketUrl } from '../src/protocol/url.js';

test('https becomes wss and the worker path is appended', () => {
  assert.equal(workerSocketUrl('https://chaarfm.onrender.com', 'ABC123'), 'wss://chaarfm.onrender.com/ws/remote/ABC123/worker');
});

test('http becomes ws, trailing slashes are stripped', () => {
  assert.equal(workerSocketUrl('http://127.0.0.1:8000///', '1234'), 'ws://127.0.0.1:8000/ws/remote/1234/worker');
});

test('a path prefix on the server URL is kept', () => {
  assert.equal(workerSocketUrl('https://host/chaar/', 'X'), 'wss://host/chaar/ws/remote/X/worker');
});

test('codes are URL-encoded', () => {
  assert.equal(workerSocketUrl('http://h', 'a b/c?d#é'), 'ws://h/ws/remote/a%20b%2Fc%3Fd%23%C3%A9/worker');
});

test('ws and wss URLs are used as they are', () => {
  assert.equal(workerSocketUrl('wss://h', 'C'), 'wss://h/ws/remote/C/worker');
});

test('keep-alive is always http(s)', () => {
  assert.equal(keepaliveUrl('https://h/'), 'https://h/api/keepalive');
  assert.equal(keepaliveUrl('wss://h'), 'https://h/api/keepalive');
  assert.equal(keepaliveUrl('ws://h:1'), 'http://h:1/api/keepalive');
});

test('a bare host name gets https://', () => {
  assert.equal(normaliseServerUrl(' chaarfm.onrender.com/ '), 'https://chaarfm.onrender.com');
});

test('rejects URLs of other schemes and garbage with a message naming --url', () => {
  assert.throws(() => normaliseServerUrl('ftp://h'), { name: 'TypeError', message: /--url/ });
  assert.throws(() => normaliseServerUrl('http://'), { name: 'TypeError', message: /--url/ });
  assert.throws(() => normaliseServerUrl('   '), { name: 'TypeError', message: /empty/ });
});

test('codes keep leading zeros and are trimmed; empty and huge codes are refused', () => {
  assert.equal(normaliseCode(' 0123 '), '0123');
  assert.throws(() => normaliseCode(''), { name: 'TypeError', message: /--code/ });
  assert.throws(() => normaliseCode('x'.repeat(129)), { name: 'TypeError', message: /128/ });
});
