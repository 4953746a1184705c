// SPDX-License-Identifier: MIT
/**
 * Essentia's MusiCNN regression fixtures: found through CHAARFM_ESSENTIA_FIXTURES, else at
 * ../shared/fixtures/essentia-regression beside the package. Tests skip, saying why, without them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/embed/model-file.js';
import { referenceBackendMissing } from '../../src/embed/reference-backend.js';

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

/** Expected model/Sigmoid values of Essentia's test_tensorflowpredictmusicnn.py (MTG/essentia). */
export const ESSENTIA_EXPECTED = [0.00893995, 0.650628, 0.0017924, 0.10297492, 0.15139213, 0.13975027, 0.07960042, 0.01067388, 0.04935676];
/** Essentia's own per-value tolerance in that test. */
export const ESSENTIA_TOLERANCE = 1e-5;

/**
 * Runs Essentia's MusiCNN regression case (vignesh.wav through genre_dortmund, model/Sigmoid)
 * on one backend and checks it: one patch, 3.09 s, every value within Essentia's 1e-5.
 * Returns the largest error (for the test's diagnostic) and the values.
 */
export async function checkEssentiaRegression(
  createEmbedder: (o: { backend: 'wasm' | 'native' | 'essentia.js'; threads: number; modelPath: string; outputNode: string }) => Promise<{
    embed(p: string): Promise<{ vector: Float32Array; patches: number; duration: number }>;
    close(): Promise<void>;
  }>,
  backend: 'wasm' | 'native' | 'essentia.js',
  fx: string,
): Promise<{ worst: number; vector: Float32Array }> {
  const e = await createEmbedder({ backend, threads: 1, modelPath: join(fx, 'genre_dortmund_musicnn_msd.pb'), outputNode: 'model/Sigmoid' });
  try {
    const r = await e.embed(join(fx, 'vignesh.wav'));
    if (r.patches !== 1) throw new Error(`expected 1 patch, got ${r.patches}`);
    if (r.vector.length !== ESSENTIA_EXPECTED.length) throw new Error(`expected ${ESSENTIA_EXPECTED.length} values, got ${r.vector.length}`);
    if (Math.abs(r.duration - 3.09) >= 0.01) throw new Error(`duration ${r.duration}`);
    const worst = Math.max(...ESSENTIA_EXPECTED.map((v, i) => Math.abs(v - r.vector[i])));
    if (!(worst <= ESSENTIA_TOLERANCE)) throw new Error(`values ${Array.from(r.vector).join(', ')}; max error ${worst}`);
    return { worst, vector: r.vector };
  } finally {
    await e.close();
  }
}

/** false when the reference backend (`essentia.js`, optional dependencies) is installed, else why tests of it skip. */
const missingReference = referenceBackendMissing();
export const noReference: false | string = missingReference.length
  ? `the reference backend's optional dependencies are not installed (${missingReference.join(', ')})`
  : false;
