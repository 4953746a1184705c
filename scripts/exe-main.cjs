// SPDX-License-Identifier: MIT
/**
 * The entry point of the standalone executable (Node's single executable applications; built by
 * scripts/build-exe.mjs). The executable carries, as SEA assets, a small package tree: the CLI
 * bundled to CommonJS, the portable backend's thread script and .wasm files, the native addon
 * (libsamplerate linked in), the model and the licences. On the first run of a
 * given build that tree is written to `<user cache>/chaarfm-worker/exe-<version>-<hash>/`
 * (written to a temp folder and renamed, so concurrent first runs are safe); later runs only
 * check a marker file. The CLI is then loaded from there with a real `require`, so the addon,
 * the model, worker threads and .wasm files are ordinary files on disk and the package's own
 * lookups (package root, node-gyp-build, the bundled model) work unchanged.
 *
 * ffmpeg and yt-dlp: a binary beside the executable (`ffmpeg`, `yt-dlp`, with `.exe` on
 * Windows) is used when CHAARFM_FFMPEG / CHAARFM_YTDLP are not set; otherwise the usual order
 * applies (for ffmpeg the bundled decoder in the unpacked prebuilds/ folder, then PATH; for
 * yt-dlp PATH, then a verified download into the user cache).
 * CHAARFM_EXE_CACHE overrides the extraction folder's parent.
 *
 * As yt-dlp's JavaScript runtime (src/media/js-runtime.ts) the CLI starts this executable once
 * more as the sandbox that runs YouTube's player script (src/media/js-sandbox.ts): with
 * `NODE_OPTIONS=--permission` and the sandbox's source in env CHAARFM_JS_SANDBOX. That source
 * is run here, before anything is unpacked, and only when the permission model is really on
 * with no file access and no child processes; otherwise the variable is an error.
 */
'use strict';
if (process.env.CHAARFM_JS_SANDBOX !== undefined) {
  const source = process.env.CHAARFM_JS_SANDBOX;
  delete process.env.CHAARFM_JS_SANDBOX;
  const p = process.permission;
  if (!p || p.has('fs.read') || p.has('fs.write') || p.has('child')) {
    process.stderr.write('chaarfm-worker: CHAARFM_JS_SANDBOX is set without Node\'s permission model; refusing to run it\n');
    process.exitCode = 70;
  } else require('node:vm').compileFunction(source, ['require'])(require);
  return;
}
const sea = require('node:sea');
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

// bundled in by scripts/build-exe.mjs (the SEA main script can require only built-in modules)
const { userCacheDir } = require('../src/util/user-cache.js');

function userCache() {
  return process.env.CHAARFM_EXE_CACHE || userCacheDir();
}

/** Writes the asset tree once per build; returns its folder. */
function extract(manifest) {
  const dir = path.join(userCache(), `exe-${manifest.version}-${manifest.hash}`);
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    for (const f of manifest.files) {
      const dest = path.join(tmp, ...f.name.split('/'));
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, new Uint8Array(sea.getRawAsset(f.name)), { mode: f.mode });
    }
    fs.writeFileSync(path.join(tmp, '.complete'), `${manifest.version} ${manifest.hash}\n`);
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      if (!fs.existsSync(marker)) throw err; // another first run won the race: use its copy
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`cannot unpack the executable's files into ${dir} (${err.message}); set CHAARFM_EXE_CACHE to a writable folder`);
  }
  return dir;
}

/** A tool shipped beside the executable, unless the user named one. */
function besideExe(envName, tool) {
  if (process.env[envName]) return;
  const file = path.join(path.dirname(process.execPath), process.platform === 'win32' ? `${tool}.exe` : tool);
  if (fs.existsSync(file)) process.env[envName] = file;
}

try {
  const manifest = JSON.parse(sea.getAsset('manifest.json', 'utf8'));
  const dir = extract(manifest);
  besideExe('CHAARFM_FFMPEG', 'ffmpeg');
  besideExe('CHAARFM_YTDLP', 'yt-dlp');
  const entry = path.join(dir, 'dist', 'chaarfm.cjs');
  createRequire(entry)(entry);
} catch (err) {
  process.stderr.write(`chaarfm-worker: ${err && err.message ? err.message : String(err)}\n`);
  process.exitCode = 70;
}
