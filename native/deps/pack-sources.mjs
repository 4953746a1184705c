// SPDX-License-Identifier: MIT
/**
 * Puts into native/deps/packed/ the few files of pinned third-party sources that a build from the
 * npm package needs (sources.json: an entry's `packed` list, each checked against its `files`
 * SHA-256), so `npm run build:from-source` in an installed package needs neither apt nor the
 * network. Today: libsamplerate 0.2.2's src/mid_qual_coeffs.h (the SRC_SINC_MEDIUM filter table
 * that native/cmake/audio.cmake compiles in) and its COPYING. Run by `npm pack` (prepack); the
 * folder is ignored by git: the files are never copied into this repository.
 *   node native/deps/pack-sources.mjs
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(here, 'sources.json'), 'utf8'));
const out = path.join(here, 'packed');
rmSync(out, { recursive: true, force: true });
for (const [name, entry] of Object.entries(manifest)) {
  if (!entry.packed) continue;
  const r = spawnSync(process.execPath, [path.join(here, 'fetch-source.mjs'), name], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`pack-sources: ${name}: ${(r.stderr || '').trim()}\n`);
    process.exit(1);
  }
  const src = r.stdout.trim();
  const dest = path.join(out, entry.topdir);
  mkdirSync(dest, { recursive: true });
  for (const rel of entry.packed) {
    const data = readFileSync(path.join(src, rel));
    const sha = createHash('sha256').update(data).digest('hex');
    if (sha !== entry.files?.[rel]) {
      process.stderr.write(`pack-sources: ${name}/${rel} has SHA-256 ${sha}, not the pinned ${entry.files?.[rel]}\n`);
      process.exit(1);
    }
    writeFileSync(path.join(dest, path.basename(rel)), data);
  }
  process.stdout.write(`${path.relative(process.cwd(), dest)}: ${entry.packed.join(', ')}\n`);
}
