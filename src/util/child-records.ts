// SPDX-License-Identifier: MIT
/**
 * Records of the external tools a job started, kept in the job's folder, so that the tools a
 * killed worker left running (yt-dlp runs in its own process group and outlives a `kill -9` of
 * its parent until its next write to the closed pipe, and meanwhile may create the job folder
 * again) can be stopped by the worker's next start before it removes that folder.
 *
 * A record is a file `.child-<pid>` holding the process's start time as the kernel reports it.
 * A recorded process is killed only while the same pid still has the same start time, so a pid
 * reused by an unrelated process is never touched. Start times are read from /proc (Linux);
 * elsewhere nothing is recorded and such a tool ends at its next write to its closed stdout.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PREFIX = '.child-';

export interface ProcessStat {
  /** Process group id. */
  pgrp: number;
  /** Start time in clock ticks since boot: with the pid, names one process for good. */
  startTime: string;
}

/** Linux: the process group and start time of `pid` from /proc/<pid>/stat; null elsewhere or when gone. */
export async function processStat(pid: number, platform: NodeJS.Platform = process.platform): Promise<ProcessStat | null> {
  if (platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp ... starttime(22nd field)"; comm may hold spaces and ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3]
  const pgrp = Number(rest[2]);
  const startTime = rest[19];
  if (!Number.isInteger(pgrp) || !startTime || !/^\d+$/.test(startTime)) return null;
  return { pgrp, startTime };
}

/**
 * Record a process this job started. Never throws: a record that cannot be written only means
 * that a later start cannot stop that process (it still ends at its next write to the pipe).
 */
export async function recordChild(jobDir: string, pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const st = await processStat(pid);
  if (!st) return;
  await writeFile(join(jobDir, `${PREFIX}${pid}`), `${st.startTime}\n`).catch(() => {});
}

/**
 * Stop the processes recorded in a stale job folder that are still the same processes: the
 * whole group when the process leads its own group (as yt-dlp does), else the process alone.
 * Returns the pids stopped.
 */
export async function killRecordedChildren(jobDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(jobDir);
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length));
    if (!Number.isInteger(pid) || pid <= 1) continue;
    let recorded: string;
    try {
      recorded = (await readFile(join(jobDir, name), 'utf8')).trim();
    } catch {
      continue;
    }
    const now = await processStat(pid);
    if (!now || now.startTime !== recorded) continue; // gone, or the pid belongs to someone else now
    try {
      process.kill(now.pgrp === pid ? -pid : pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      /* ended meanwhile, or not ours to signal */
    }
  }
  return killed;
}
