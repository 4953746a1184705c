// SPDX-License-Identifier: MIT
/**
 * This package's folder in the user cache, per platform: the one implementation, for the
 * TypeScript code (the yt-dlp download) and for the plain-JS scripts, some of which run before
 * `tsc` (native/deps/fetch-source.mjs imports this file from src/; the executable's entry
 * scripts/exe-main.cjs gets it bundled in by scripts/build-exe.mjs; an installed package's
 * scripts/build-from-source.mjs imports the compiled copy in dist/). Plain JavaScript with
 * JSDoc types for that reason; `tsc` (allowJs) checks it, emits it and its declarations.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * `%LOCALAPPDATA%\chaarfm-worker` on Windows, `~/Library/Caches/chaarfm-worker` on macOS,
 * `$XDG_CACHE_HOME/chaarfm-worker` (default `~/.cache/chaarfm-worker`) elsewhere.
 * @param {NodeJS.ProcessEnv} [env]
 * @param {NodeJS.Platform} [platform]
 * @returns {string}
 */
export function userCacheDir(env = process.env, platform = process.platform) {
  const home = env.HOME || env.USERPROFILE || homedir();
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'chaarfm-worker');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'chaarfm-worker');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'chaarfm-worker');
}
