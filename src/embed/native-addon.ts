// SPDX-License-Identifier: MIT
/**
 * Loading the native addon. It is looked for, in order, at env `CHAARFM_NATIVE_ADDON` (a path
 * to a .node file), then by node-gyp-build in the package's `build/Release` and
 * `prebuilds/<platform>-<arch>/`. When none loads, a NativeUnavailableError says what was
 * tried, why each failed, and how to build it.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { firstLine } from '../util/values.js';
import { packageRoot } from './model-file.js';
import { asBinding } from './native-binding.js';

/** How to build the native addon (one place, for every message that needs it). */
export const NATIVE_BUILD_HINT =
  'build it with `npm run build:native` in the package folder (needs CMake and a C++17 compiler; ' +
  'the addon lands in build/Release), or use --backend wasm';

/** The native addon could not be loaded; `attempts` says what was tried and why each failed. */
export class NativeUnavailableError extends Error {
  constructor(readonly attempts: string[]) {
    super(`The native backend is not available: ${attempts.join('; ')}. To use it, ${NATIVE_BUILD_HINT}`);
    this.name = 'NativeUnavailableError';
  }
}

export interface NativeAddon {
  binding: unknown;
  path: string;
}

/** Tries to load the native addon; throws NativeUnavailableError listing every attempt. */
export function loadNativeAddon(env: NodeJS.ProcessEnv = process.env): NativeAddon {
  const require = createRequire(import.meta.url);
  const attempts: string[] = [];
  const explicit = env.CHAARFM_NATIVE_ADDON;
  if (explicit) {
    try {
      const file = path.resolve(explicit);
      return { binding: asBinding(require(file), file), path: file };
    } catch (err) {
      attempts.push(`CHAARFM_NATIVE_ADDON=${explicit} did not load (${firstLine(err)})`);
    }
  }
  const root = packageRoot();
  try {
    const nodeGypBuild = require('node-gyp-build') as { (dir: string): unknown; resolve(dir: string): string };
    const file = nodeGypBuild.resolve(root);
    return { binding: asBinding(require(file), file), path: file };
  } catch (err) {
    const msg = firstLine(err);
    attempts.push(
      /No native build was found/.test(msg)
        ? `no addon built for ${process.platform}-${process.arch} (node ${process.versions.node}, ABI ${process.versions.modules}) in ` +
            `${path.join(root, 'build', 'Release')} or ${path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)}`
        : `the addon found by node-gyp-build did not load (${msg})`,
    );
  }
  throw new NativeUnavailableError(attempts);
}
