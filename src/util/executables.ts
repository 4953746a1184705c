// SPDX-License-Identifier: MIT
/** Finding external programs (ffmpeg, yt-dlp): executable checks and PATH lookup, per platform. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';

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

/** First executable `name` on the PATH of `env` (with PATHEXT extensions on Windows), or null. */
export async function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Promise<string | null> {
  const win = platform === 'win32';
  const dirs = (env.PATH ?? env.Path ?? '').split(win ? ';' : ':').filter(Boolean);
  const exts = win ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean)] : [''];
  for (const dir of dirs)
    for (const ext of exts) {
      const candidate = join(dir, name + ext);
      if (await isExecutableFile(candidate, platform)) return candidate;
    }
  return null;
}
