// SPDX-License-Identifier: MIT
/** Finding external programs (ffmpeg, yt-dlp): executable checks and PATH lookup, per platform. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** A regular file that this process may execute (on Windows: that exists). */
export async function isExecutableFile(p: string, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  try {
    if (!(await stat(p)).isFile()) return false;
    await access(p, platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Extensions of the files `spawn` can start on Windows without a shell: programs only. Since
 * Node 20.12.2 (CVE-2024-27980) it refuses .cmd and .bat with EINVAL, so a `yt-dlp.cmd` shim on
 * PATH must not be picked; anything else in PATHEXT (.js, .vbs, ...) needs its interpreter.
 */
const SPAWNABLE_WIN = new Set(['.EXE', '.COM']);

/**
 * First executable `name` on the PATH of `env`, or null. On Windows: `name` with each PATHEXT
 * extension that `spawn` can start (.exe, .com), or `name` itself when it already ends in one.
 */
export async function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Promise<string | null> {
  const win = platform === 'win32';
  const dirs = (env.PATH ?? env.Path ?? '').split(win ? ';' : ':').filter(Boolean);
  let exts = [''];
  if (win) {
    const pathext = (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').map((e) => e.trim());
    exts = pathext.filter((e) => SPAWNABLE_WIN.has(e.toUpperCase())).map((e) => e.toLowerCase());
    if (SPAWNABLE_WIN.has(extname(name).toUpperCase())) exts = [''];
  }
  for (const dir of dirs)
    for (const ext of exts) {
      const candidate = join(dir, name + ext);
      if (await isExecutableFile(candidate, platform)) return candidate;
    }
  return null;
}
