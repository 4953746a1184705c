// SPDX-License-Identifier: MIT
/** The user-cache folder: one implementation (src/util/user-cache.js) for the code and the scripts. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { userCacheDir } from '../src/util/user-cache.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('userCacheDir per platform', () => {
  assert.equal(userCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }, 'linux'), join('/x/cache', 'chaarfm-worker'));
  assert.equal(userCacheDir({ HOME: '/home/u' }, 'linux'), join('/home/u', '.cache', 'chaarfm-worker'));
  assert.equal(userCacheDir({ HOME: '/Users/u' }, 'darwin'), join('/Users/u', 'Library', 'Caches', 'chaarfm-worker'));
  assert.equal(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32'), join('C:\\Users\\u\\AppData\\Local', 'chaarfm-worker'));
});

test('no other source or script works out the cache folder itself', () => {
  const files = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|js|mjs|cjs)$/.test(e.name) ? [join(dir, e.name)] : [],
    );
  const all = ['src', 'scripts', 'native/scripts', 'native/deps'].flatMap(files);
  const own = all.filter((f) => /XDG_CACHE_HOME|'Caches'/.test(readFileSync(join(root, f), 'utf8'))).map((f) => relative('.', f));
  assert.deepEqual(own, [join('src', 'util', 'user-cache.js')]);
});
