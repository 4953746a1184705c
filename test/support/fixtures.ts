// SPDX-License-Identifier: MIT
/**
 * Essentia's MusiCNN regression fixtures: found through CHAARFM_ESSENTIA_FIXTURES, else at
 * ../shared/fixtures/essentia-regression beside the package. Tests skip, saying why, without them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/embed/model-file.js';

export const FIXTURES_DIR =
  process.env.CHAARFM_ESSENTIA_FIXTURES ?? join(packageRoot(), '..', 'shared', 'fixtures', 'essentia-regression');
export const VIGNESH_WAV = join(FIXTURES_DIR, 'vignesh.wav');
export const DORTMUND_PB = join(FIXTURES_DIR, 'genre_dortmund_musicnn_msd.pb');

/** The folder when both fixture files are there, else undefined. */
export function fixturesDir(): string | undefined {
  return existsSync(VIGNESH_WAV) && existsSync(DORTMUND_PB) ? FIXTURES_DIR : undefined;
}

/** false when the recording is there, else the reason a test skips. */
export const noVignesh: false | string = existsSync(VIGNESH_WAV)
  ? false
  : `no fixture at ${VIGNESH_WAV} (set CHAARFM_ESSENTIA_FIXTURES)`;
