// SPDX-License-Identifier: MIT
/**
 * Who is asking: the peer address of the connection, or, when that peer is a proxy the
 * operator trusts (`--trust-proxy`), the client it names in `X-Forwarded-For`. The header is
 * read from the right: each trusted hop appends the address it saw, so the first address that
 * is not a trusted proxy is the client; anything left of it is the client's own claim and
 * never believed. Without trusted proxies the header is ignored.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

export type ClientAddress = (req: IncomingMessage) => string;

/**
 * The trusted proxies from a list of addresses and CIDR ranges (`127.0.0.1`, `10.0.0.0/8`,
 * `::1`, `fd00::/8`). Throws a TypeError naming the first entry that is neither.
 */
export function trustedProxies(list: readonly string[]): BlockList {
  const b = new BlockList();
  for (const raw of list) {
    const e = raw.trim();
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr);
    const prefix = bits === undefined ? null : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!family || extra !== undefined || (prefix !== null && !(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))))
      throw new TypeError(`Expected an IP address or CIDR range (10.0.0.0/8, ::1) for a trusted proxy but received ${JSON.stringify(raw)}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === null) b.addAddress(addr, type);
    else b.addSubnet(addr, prefix, type);
  }
  return b;
}

function trusted(list: BlockList, addr: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  const a = mapped ? mapped[1] : addr;
  const family = isIP(a);
  return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/** The client address of a request, through the proxies in `trust` (none: the peer itself). */
export function clientAddress(trust: BlockList | null): ClientAddress {
  return (req) => {
    const peer = req.socket.remoteAddress ?? 'unknown';
    if (!trust || !trusted(trust, peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => h.trim());
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!isIP(hops[i])) break;
      client = hops[i];
      if (!trusted(trust, client)) break;
    }
    return client;
  };
}
