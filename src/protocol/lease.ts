// SPDX-License-Identifier: MIT
/**
 * How long a job may run, as the server allows it. The frames of the wire contract carry no
 * lease, so our coordinator names it in a header of the WebSocket upgrade response
 * (`X-Chaarfm-Lease-Ms`), outside every frame: deployed servers and the Python worker never
 * see a difference. A worker that reads the header ends a job (and reports it failed) before
 * the lease runs out, instead of computing on after the job was given to another worker.
 */

/** The upgrade response header, lower case as Node reports it. */
export const LEASE_HEADER = 'x-chaarfm-lease-ms';

/** The lease a header value names, or null when absent or malformed (then the worker's own limit holds). */
export function parseLeaseHeader(v: string | string[] | undefined): number | null {
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string' || !/^\d{1,12}$/.test(s.trim())) return null;
  const n = Number(s.trim());
  return n > 0 ? n : null;
}

/**
 * The worker's limit for one job: its own (0 = none), cut to end before the server's lease,
 * with a margin of a tenth of the lease (at most 30 s) for the failure to reach the server.
 */
export function jobTimeoutFor(ownMs: number | undefined, leaseMs: number | null): number | undefined {
  if (leaseMs === null) return ownMs;
  const byLease = Math.max(1, Math.round(leaseMs - Math.min(30_000, leaseMs / 10)));
  return ownMs && ownMs > 0 ? Math.min(ownMs, byLease) : byLease;
}
