// SPDX-License-Identifier: MIT
/**
 * The reference backend (`--backend essentia.js`: libsamplerate-js, essentia.js, TF.js WASM; the
 * design's original fallback) lives in optional dependencies: never on the default path, absent
 * from the single executables. `referenceBackendMissing()` names the packages that are not
 * installed (empty when it can run), without loading them.
 */
import { createRequire } from 'node:module';

export const REFERENCE_PACKAGES = [
  '@alexanderolsen/libsamplerate-js',
  'essentia.js',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-converter',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
] as const;

const require = createRequire(import.meta.url);

export function referenceBackendMissing(): string[] {
  return REFERENCE_PACKAGES.filter((name) => {
    try {
      require.resolve(`${name}/package.json`);
      return false;
    } catch {
      try {
        require.resolve(name);
        return false;
      } catch {
        return true;
      }
    }
  });
}

/** Throws, naming what is missing and how to install it, when the reference backend cannot run. */
export function assertReferenceBackend(): void {
  const missing = referenceBackendMissing();
  if (missing.length) {
    throw new Error(
      `the reference backend (--backend essentia.js) needs its optional dependencies, not installed here: ${missing.join(', ')}; ` +
        'install them with: npm install --include=optional (the executables do not carry it; use the npm package)',
    );
  }
}
