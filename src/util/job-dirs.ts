// SPDX-License-Identifier: MIT
/**
 * Per-job temporary folders: each job works in its own folder under one root, removed on
 * success, failure, timeout and shutdown. A folder left by a killed process (its pid no longer
 * alive) is removed at the next start, and by a running worker's periodic sweep; the tools that
 * process started and recorded in the folder (child-records.ts) are stopped first, so that none
 * of them goes on writing there.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killRecordedChildren } from './child-records.js';

const PREFIX = 'job-';

/** The root under which this package keeps job folders. */
export function jobRoot(tmpDir?: string): string {
  return join(tmpDir ?? tmpdir(), 'chaarfm-worker');
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Create a fresh folder for one job: <root>/job-<pid>-<random>. */
export async function createJobDir(root: string): Promise<string> {
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, `${PREFIX}${process.pid}-`));
}

export async function removeJobDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

export interface StaleCleanup {
  /** Folder names removed. */
  removed: string[];
  /** Recorded tools of those folders' dead owners that were still running and were stopped. */
  stopped: number[];
  /** Folders that could not be removed, with the reason (tried again at the next sweep). */
  failed: string[];
}

/** Remove folders left by processes that are no longer running, after stopping their recorded tools. */
export async function cleanStaleJobDirs(root: string): Promise<StaleCleanup> {
  const out: StaleCleanup = { removed: [], stopped: [], failed: [] };
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return out;
  }
  for (const name of names) {
    const m = /^job-(\d+)-/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    const dir = join(root, name);
    out.stopped.push(...(await killRecordedChildren(dir)));
    try {
      await removeJobDir(dir);
      out.removed.push(name);
    } catch (e) {
      out.failed.push(`${name}: ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * Synchronous last resort at a forced exit: remove this process's own job folders.
 * (Normal shutdown removes each folder when its job ends.)
 */
export function removeOwnJobDirsSync(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names)
    if (name.startsWith(`${PREFIX}${process.pid}-`)) rmSync(join(root, name), { recursive: true, force: true });
}
