// SPDX-License-Identifier: MIT
/**
 * Where the native engine's C++ test program (native/test, -DCHAARFM_BUILD_TESTS=ON) is looked
 * for: $CHAARFM_ENGINE_TEST, then build/Release and build/ (cmake-js puts executables in either,
 * per generator), with `.exe` on Windows; and the genre graph its fixtures need.
 */
import { join } from 'node:path';
import { DORTMUND_PB } from './fixtures.js';

export function engineTestCandidates(root: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string[] {
  const name = platform === 'win32' ? 'chaarfm_engine_test.exe' : 'chaarfm_engine_test';
  return [env.CHAARFM_ENGINE_TEST, join(root, 'build', 'Release', name), join(root, 'build', name)].filter((p): p is string => Boolean(p));
}

/** Essentia's genre_dortmund graph, one of the two graphs the C++ runner tests compare. */
export const ENGINE_GENRE_GRAPH = DORTMUND_PB;
