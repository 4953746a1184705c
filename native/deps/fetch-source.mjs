// SPDX-License-Identifier: MIT
/**
 * Brings the pinned source of a third-party library that the build compiles from source, checks
 * its SHA-256 against native/deps/sources.json and unpacks it into a cache folder. Prints the
 * unpacked top folder on stdout (nothing else), so scripts can do
 *   src=$(node native/deps/fetch-source.mjs libsamplerate)
 *
 * Where the tarball comes from, first that works:
 *   1. a file of the pinned name in $CHAARFM_DEPS_DIR (e.g. handed from another job);
 *   2. the cache folder itself (a verified tarball from an earlier run);
 *   3. Debian's source package, through a deb-src list of this script's own, made from the
 *      machine's apt sources (`Types: deb` turned into `deb-src`), with its own lists folder:
 *      the system's apt configuration is read, never changed. Needs apt-get (Debian, Ubuntu).
 * Whatever the way, the tarball must have the pinned SHA-256, or the script fails. The source is
 * never copied into this repository.
 *
 *   node native/deps/fetch-source.mjs <name> [--tarball]   (--tarball: print the tarball's path)
 * Cache: $CHAARFM_DEPS_CACHE, else <user cache>/chaarfm-worker/deps.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { userCacheDir } from '../../src/util/user-cache.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(here, 'sources.json'), 'utf8'));

function fail(msg) {
  process.stderr.write(`fetch-source: ${msg}\n`);
  process.exit(1);
}

function cacheRoot() {
  if (process.env.CHAARFM_DEPS_CACHE) return path.resolve(process.env.CHAARFM_DEPS_CACHE);
  return path.join(userCacheDir(), 'deps');
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) return { ok: false, why: `${cmd}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, why: `${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  return { ok: true, out: r.stdout };
}

/** Debian's source package through a deb-src list of our own (the system's apt config untouched). */
function fromDebian(entry, dir) {
  const sys = '/etc/apt/sources.list.d';
  if (!existsSync(sys)) return 'no /etc/apt/sources.list.d (not a Debian-like system)';
  const apt = path.join(dir, 'apt');
  const parts = path.join(apt, 'sources.list.d');
  const lists = path.join(apt, 'lists');
  mkdirSync(path.join(lists, 'partial'), { recursive: true });
  mkdirSync(parts, { recursive: true });
  let n = 0;
  for (const f of readdirSync(sys)) {
    if (!f.endsWith('.sources') && !f.endsWith('.list')) continue;
    const text = readFileSync(path.join(sys, f), 'utf8');
    const src = f.endsWith('.sources')
      ? text.replace(/^Types:\s*deb\s*$/gm, 'Types: deb-src')
      : text.replace(/^deb\s/gm, 'deb-src ');
    writeFileSync(path.join(parts, f), src);
    n++;
  }
  if (n === 0) return 'no apt sources to derive a deb-src list from';
  const o = ['-o', 'Dir::Etc::SourceList=/dev/null', '-o', `Dir::Etc::SourceParts=${parts}`, '-o', `Dir::State::Lists=${lists}`, '-o', 'APT::Sandbox::User=root'];
  const up = run('apt-get', [...o, '-qq', 'update']);
  if (!up.ok) return up.why;
  const dl = path.join(dir, 'debian-download');
  rmSync(dl, { recursive: true, force: true });
  mkdirSync(dl, { recursive: true });
  const want = `${entry.debian.package}=${entry.debian.version}`;
  const got = run('apt-get', [...o, '-qq', 'source', '--download-only', want], { cwd: dl });
  if (!got.ok) return got.why;
  const file = path.join(dl, entry.file);
  if (!existsSync(file)) return `apt-get source ${want} did not bring ${entry.file}`;
  renameSync(file, path.join(dir, entry.file));
  rmSync(dl, { recursive: true, force: true });
  return null;
}

const [name, ...flags] = process.argv.slice(2);
const entry = manifest[name];
if (!entry) fail(`unknown source '${name}' (known: ${Object.keys(manifest).join(', ')})`);
const dir = path.join(cacheRoot(), `${name}-${entry.version}`);
mkdirSync(dir, { recursive: true });
const tarball = path.join(dir, entry.file);
const tried = [];

const handed = process.env.CHAARFM_DEPS_DIR && path.join(process.env.CHAARFM_DEPS_DIR, entry.file);
if (handed && existsSync(handed) && !existsSync(tarball)) copyFileSync(handed, tarball);
if (existsSync(tarball) && sha256(tarball) !== entry.sha256) {
  tried.push(`${tarball}: SHA-256 ${sha256(tarball)} is not the pinned ${entry.sha256}; removed`);
  rmSync(tarball);
}
if (!existsSync(tarball)) {
  const why = fromDebian(entry, dir);
  if (why) tried.push(`Debian source package ${entry.debian.package} ${entry.debian.version}: ${why}`);
}
if (!existsSync(tarball)) fail(`no source for ${name} ${entry.version}:\n  ${tried.join('\n  ')}\n  (put ${entry.file} in $CHAARFM_DEPS_DIR)`);
const digest = sha256(tarball);
if (digest !== entry.sha256) {
  rmSync(tarball);
  fail(`${entry.file} has SHA-256 ${digest}, pinned ${entry.sha256}: refused`);
}
if (flags.includes('--tarball')) {
  process.stdout.write(`${tarball}\n`);
  process.exit(0);
}
const top = path.join(dir, entry.topdir);
const stamp = path.join(dir, `.unpacked-${entry.sha256}${entry.extract ? `-${createHash('sha256').update(entry.extract.join('\n')).digest('hex').slice(0, 8)}` : ''}`);
if (!existsSync(stamp) || !existsSync(top)) {
  rmSync(top, { recursive: true, force: true });
  // entry.extract: only those members (a large tarball of which the build needs a corner)
  const x = run('tar', ['-xf', tarball, '-C', dir, ...(entry.extract ?? [])]);
  if (!x.ok) fail(x.why);
  if (!existsSync(top)) fail(`${entry.file} did not unpack to ${entry.topdir}`);
  writeFileSync(stamp, '');
}
process.stdout.write(`${top}\n`);
