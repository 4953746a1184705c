// SPDX-License-Identifier: MIT
/** The built native addon for tests, or the reason its tests skip. */
import { loadNativeAddon } from '../../src/embed/native-addon.js';
import { asBinding, type Binding } from '../../src/embed/native-binding.js';

export function loadTestBinding(): { binding?: Binding; skip: string | false } {
  try {
    const addon = loadNativeAddon();
    return { binding: asBinding(addon.binding, addon.path), skip: false };
  } catch (err) {
    return { skip: `native addon not built (${(err as Error).message.split('\n')[0].slice(0, 200)}); run npm run build:native` };
  }
}
