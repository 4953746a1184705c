// SPDX-License-Identifier: MIT
/**
 * `chaarfm-worker serve`: run a ChaarFM-compatible coordinator (src/coordinator) until
 * SIGINT/SIGTERM. Prints where it listens and, with --new-code, a fresh pairing code with the
 * exact worker command. The first signal closes sockets and the store cleanly; a second one
 * exits at once (the SQLite store survives that too).
 */
import { createLogger } from '../log/logger.js';
import { VERSION } from '../version.js';
import { trustedProxies } from '../coordinator/client-address.js';
import { UsageError } from './errors.js';
import { parseEnumFlag, parseIntFlag, parseStringFlag } from './options.js';
import { rawFlagValue } from './raw-args.js';
import type { CliIO } from './worker-command.js';

/** `15m`, `90s`, `500ms`, `1h`, or a bare number of minutes. */
export function parseDuration(name: string, value: unknown): number {
  const s = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)?$/.exec(s);
  const unit = m?.[2] ?? 'm';
  const ms = m ? Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3600_000 : 60_000) : NaN;
  if (!Number.isFinite(ms) || ms < 100 || ms > 7 * 24 * 3600_000)
    throw new UsageError(`Expected a duration like 15m, 90s or 1h (100 ms to 7 days) for --${name} but received ${JSON.stringify(s)}`);
  return Math.round(ms);
}

/** `--trust-proxy 10.0.0.1,fd00::/8`: each entry an address or CIDR range, checked now. */
export function parseProxyList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    trustedProxies(list);
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace('for a trusted proxy', 'in --trust-proxy')}`);
  }
  return list;
}

export async function runServeCommand(argv: readonly string[], opts: Record<string, unknown>, io: CliIO): Promise<void> {
  const format = parseEnumFlag('log-format', opts.logFormat ?? 'pretty', ['pretty', 'json'] as const);
  for (const f of ['port', 'retries', 'drops', 'lease', 'logFormat'] as const) parseStringFlag(f.replace('F', '-f'), opts[f]);
  const port = parseIntFlag('port', opts.port === undefined ? 8000 : rawFlagValue(argv, 'port'), 0, 65535);
  const retries = parseIntFlag('retries', opts.retries === undefined ? 3 : rawFlagValue(argv, 'retries'), 1, 100);
  const drops = parseIntFlag('drops', opts.drops === undefined ? 3 : rawFlagValue(argv, 'drops'), 1, 100);
  const trustProxy = parseProxyList((parseStringFlag('trust-proxy', opts.trustProxy) && rawFlagValue(argv, 'trust-proxy')) ?? '');
  const leaseMs = parseDuration('lease', opts.lease === undefined ? '15m' : rawFlagValue(argv, 'lease'));
  const host = (parseStringFlag('host', opts.host) && rawFlagValue(argv, 'host')) ?? '127.0.0.1';
  // an empty host would listen on every interface, without the warning below
  if (host.trim() === '') throw new UsageError('Expected an address for --host (127.0.0.1, 0.0.0.0, ::, a host name) but received an empty value');
  const db = (parseStringFlag('db', opts.db) && rawFlagValue(argv, 'db')) ?? 'chaarfm-coordinator.db';
  const log = createLogger({ format, stream: io.stderr, level: opts.verbose ? 'debug' : 'info' });
  const { startCoordinator } = await import('../coordinator/server.js');
  const server = await startCoordinator({ host, port, db, leaseMs, retries, drops, trustProxy, acceptAnyCode: opts.acceptAnyCode === true, logger: log }).catch((e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`Port ${port} on ${host} is already in use; pick another with --port`);
    if (code === 'EACCES') throw new UsageError(`Not allowed to listen on ${host}:${port}; use a port above 1023`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL' || code === 'EINVAL')
      throw new UsageError(`Cannot listen on --host ${JSON.stringify(host)}: not an address of this machine (${code})`);
    throw e;
  });
  log.info(`chaarfm-worker ${VERSION} coordinator listening on ${server.url}`, { db, lease_ms: leaseMs, retries, drops, trust_proxy: trustProxy, accept_any_code: opts.acceptAnyCode === true });
  log.info(`ingest page: ${server.url}/ingest   new code: curl -X POST ${server.url}/api/sessions`);
  if (host === '0.0.0.0' || host === '::') log.warn('listening on every interface: anyone who can reach this port can make codes and read results of codes they know');
  if (opts.newCode) {
    const { newCode } = await import('../coordinator/codes.js');
    const row = await server.scheduler.createSession(newCode());
    io.stdout.write(`${row.code}\n`);
    log.info(`pairing code ${row.code}; worker command: npx chaarfm-worker --url ${server.url} --code ${row.code}`);
  }
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130);
      log.info(`${sig}: closing sockets and the store (Ctrl+C again to quit at once)`);
      setTimeout(() => process.exit(0), 5000).unref();
      void server.close().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        log.info('stopped');
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
