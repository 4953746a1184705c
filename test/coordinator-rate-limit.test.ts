// SPDX-License-Identifier: MIT
/**
 * The refusal budget: clients are IPv4 addresses or IPv6 /64s; limiting goes on past the
 * tracked-client bound; parallel guesses on a store whose lookups take time cannot outrun the
 * count (PostgreSQL, and SQLite behind a slowed lookup); and behind a trusted proxy each client
 * named by X-Forwarded-For has its own budget, so one guesser never gets a valid code refused
 * for everyone else, while the header from an untrusted peer is ignored.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, afterEach, test } from 'node:test';
import { clientAddress, trustedProxies } from '../src/coordinator/client-address.js';
import { FailureLimiter, limitKey } from '../src/coordinator/rate-limit.js';
import type { CoordinatorHandle } from '../src/coordinator/server.js';
import type { Store } from '../src/coordinator/store.js';
import { parseProxyList } from '../src/cli/serve-command.js';
import { RawClient, coordinator, newSession, socketUrl } from './support/coordinator.js';
import { STORES, dropPgSchemas } from './support/stores.js';
import { waitUntil } from './support/wait.js';

let srv: CoordinatorHandle | null = null;
const raws: RawClient[] = [];
const stores: Store[] = [];
after(dropPgSchemas);
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await srv?.close();
  srv = null;
  for (const s of stores.splice(0)) await s.close();
});

function get(url: string, opts: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: opts.localAddress, headers: opts.headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('clients: IPv4 as is (mapped too), IPv6 by /64, whatever the spelling', () => {
  assert.equal(limitKey('203.0.113.9'), '203.0.113.9');
  assert.equal(limitKey('::ffff:203.0.113.9'), '203.0.113.9');
  assert.equal(limitKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(limitKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(limitKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(limitKey('2001:db8:0:0:1::'), '2001:db8:0:0::/64');
  assert.equal(limitKey('::1'), '0:0:0:0::/64');
  assert.equal(limitKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.notEqual(limitKey('2001:db8:1:2::1'), limitKey('2001:db8:1:3::1'));
});

test('one IPv6 host cannot spread its guesses over the addresses of its /64', () => {
  const l = new FailureLimiter(5, 60_000);
  for (let i = 1; i <= 5; i++) l.hit(`2001:db8:7:7::${i.toString(16)}`);
  assert.equal(l.blocked('2001:db8:7:7::beef'), true);
  assert.equal(l.blocked('2001:db8:7:8::1'), false, 'the next /64 is another client');
});

test('limiting goes on past the bound on tracked clients: each new client is still limited', () => {
  let t = 1000;
  const l = new FailureLimiter(2, 60_000, 3, () => t);
  for (let i = 0; i < 10; i++) {
    const a = `198.51.100.${i}`;
    l.hit(a);
    l.hit(a);
    t++;
    assert.equal(l.blocked(a), true, `client ${i} is limited`);
    assert.ok(l.size <= 3, `at most 3 clients tracked (${l.size})`);
  }
  assert.equal(l.blocked('198.51.100.0'), false, 'the client that failed longest ago was forgotten first');
});

test('settle: a refused attempt counts; past the budget even a valid code is not answered', () => {
  const l = new FailureLimiter(2, 60_000);
  assert.equal(l.settle('a', true), true);
  assert.equal(l.settle('a', false), true, 'valid code within the budget');
  assert.equal(l.settle('a', true), true);
  assert.equal(l.settle('a', false), false, 'valid code past the budget: no oracle');
  assert.equal(l.settle('b', false), true, 'another client');
});

/** A store whose session lookups take 40 ms, as a networked store's do. */
function slowed(s: Store): Store {
  return new Proxy(s, {
    get(target, p, recv) {
      const v = Reflect.get(target, p, recv) as unknown;
      if (p === 'getSession') return async (code: string) => (await new Promise((r) => setTimeout(r, 40)), target.getSession(code));
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

for (const kind of STORES) {
  test(`[${kind.name}] parallel guesses on a store with slow lookups: at most the budget is answered 404, the rest 429`, { skip: kind.skip }, async () => {
    const store = await kind.open();
    stores.push(store);
    srv = await coordinator({ rateLimit: { max: 5, windowMs: 60_000 }, store: slowed(store) });
    const codes = Array.from({ length: 30 }, (_, i) => `ZZZZZ-${String(i).padStart(5, 'Z')}`);
    const api = await Promise.all(codes.map((c) => get(`${srv!.url}/api/sessions/${c}`)));
    assert.equal(api.filter((s) => s === 404).length, 5, `API answers ${JSON.stringify(api)}`);
    assert.equal(api.filter((s) => s === 429).length, 25);
    // the same budget on sockets, from another address
    const socks = await Promise.all(codes.map((c) => RawClient.connect(socketUrl(srv!.url, c), { localAddress: '127.0.0.3' })));
    raws.push(...socks);
    await waitUntil(() => socks.every((s) => s.closed), 5000, 'every socket refused');
    const upgraded = socks.filter((s) => s.closed?.code === 4404).length;
    assert.ok(upgraded <= 5, `at most 5 unknown-code sockets upgraded (got ${upgraded})`);
    assert.equal(socks.filter((s) => s.unexpected === 429).length + upgraded, 30);
  });
}

test('behind a trusted proxy each forwarded client has its own budget; a guesser does not lock out a valid code', async () => {
  srv = await coordinator({ rateLimit: { max: 3, windowMs: 60_000 }, trustProxy: ['127.0.0.1'] });
  const good = await newSession(srv.url);
  const via = (client: string) => ({ localAddress: '127.0.0.1', headers: { 'x-forwarded-for': `${client}, 127.0.0.1` } });
  for (let i = 0; i < 5; i++) await get(`${srv.url}/api/sessions/ZZZZZ-ZZZZ${i}`, via('203.0.113.5'));
  assert.equal(await get(`${srv.url}/api/sessions/${good}`, via('203.0.113.5')), 429, 'the guesser is limited');
  assert.equal(await get(`${srv.url}/api/sessions/${good}`, via('198.51.100.7')), 200, 'another client behind the same proxy is not');
  // a forged header from a peer that is not a trusted proxy changes nothing: it is keyed by its own address
  for (let i = 0; i < 4; i++) await get(`${srv.url}/api/sessions/ZZZZZ-ZZZY${i}`, { localAddress: '127.0.0.4', headers: { 'x-forwarded-for': `192.0.2.${i}` } });
  assert.equal(await get(`${srv.url}/api/sessions/${good}`, { localAddress: '127.0.0.4', headers: { 'x-forwarded-for': '192.0.2.99' } }), 429);
});

test('clientAddress reads X-Forwarded-For from the right and stops at the first untrusted hop', () => {
  const trust = trustedProxies(['10.0.0.0/8', '::1']);
  const at = clientAddress(trust);
  const req = (peer: string, xff?: string | string[]) => ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as never;
  assert.equal(at(req('10.1.1.1', '1.1.1.1, 203.0.113.5, 10.2.2.2')), '203.0.113.5', 'the client claims of 1.1.1.1 are not believed');
  assert.equal(at(req('::1', ['203.0.113.6', '10.0.0.9'])), '203.0.113.6');
  assert.equal(at(req('::ffff:10.0.0.1', 'not-an-ip, 203.0.113.7')), '203.0.113.7');
  assert.equal(at(req('10.1.1.1', 'garbage')), '10.1.1.1', 'a malformed hop: the proxy itself');
  assert.equal(at(req('203.0.113.8', '9.9.9.9')), '203.0.113.8', 'an untrusted peer: its header is ignored');
  assert.equal(clientAddress(null)(req('10.1.1.1', '9.9.9.9')), '10.1.1.1');
  assert.throws(() => trustedProxies(['10.0.0.0/33']), { name: 'TypeError', message: /Expected an IP address or CIDR range .* but received "10.0.0.0\/33"/ });
  assert.throws(() => parseProxyList('127.0.0.1,proxy.local'), { name: 'UsageError', message: /in --trust-proxy but received "proxy.local"/ });
  assert.deepEqual(parseProxyList(' 127.0.0.1 , fd00::/8 '), ['127.0.0.1', 'fd00::/8']);
});
