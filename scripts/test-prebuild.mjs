// SPDX-License-Identifier: MIT
/**
 * Runs the tests that exercise a prebuild, on that prebuild:
 *   node scripts/test-prebuild.mjs [--native-only]   (after `npm run build` and `npm run prebuilds`)
 * The native tests load prebuilds/<platform>-<arch>/chaarfm.napi.node through
 * CHAARFM_NATIVE_ADDON (so they test the binary that ships, not build/Release), with
 * CHAARFM_REQUIRE_NATIVE=1; then the shipping tests (npm pack + install, the executable) run.
 * Lists the files itself so it works where the shell does not expand globs (Windows).
 * --exclude NAME (repeatable) leaves out dist/test/NAME.test.js, which the caller must report.
 * --native-only leaves out the shipping tests (the Windows leg under Wine, scripts/ci/windows-leg.sh,
 * runs the native tests through node.exe and tests the Windows executable itself).
 * Used by .github/workflows/prebuild.yml on every platform before a prebuild is uploaded.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addon = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'chaarfm.napi.node');
if (!existsSync(addon)) {
  console.error(`test-prebuild: ${addon} is missing; run \`npm run prebuilds\` first`);
  process.exit(1);
}
const testDir = path.join(root, 'dist', 'test');
const files = readdirSync(testDir)
  .filter((f) => (process.argv.includes('--native-only') ? /^native-.*\.test\.js$/ : /^(native-|ship-).*\.test\.js$/).test(f))
  .filter((f) => !process.argv.some((a, i) => process.argv[i - 1] === '--exclude' && f === `${a}.test.js`))
  .sort()
  .map((f) => path.join(testDir, f));
console.log(`test-prebuild: ${addon}\n  ${files.map((f) => path.basename(f)).join('\n  ')}`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CHAARFM_NATIVE_ADDON: addon, CHAARFM_REQUIRE_NATIVE: '1' },
});
process.exit(r.status ?? 1);
