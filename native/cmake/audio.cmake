# SPDX-License-Identifier: MIT
# The audio front end: static library `chaarfm_audio` (our SRC_SINC_MEDIUM resampler, bit-identical
# to libsamplerate 0.2.2, and the mel frontend), and with CHAARFM_BUILD_TESTS its test program
# `chaarfm_resample_test`, which links libsamplerate itself as the reference. The addon does not
# link libsamplerate. Kept exact: -ffp-contract=off, no fast-math, in every unit.
#
# The filter table is libsamplerate's own src/mid_qual_coeffs.h, compiled in (never copied into
# this repository), from the first of:
#   1. CHAARFM_LIBSAMPLERATE_SOURCE_DIR, or the pinned source that native/cmake/libsamplerate.cmake
#      fetches (always so when the tests are built: they need the library too);
#   2. native/deps/packed/libsamplerate-0.2.2/ : the header and the library's COPYING, which
#      `npm pack` puts in the npm package (native/deps/pack-sources.mjs, run by prepack), so
#      `npm run build:from-source` in an installed package needs neither apt nor the network.
# Either way the header must have the SHA-256 that native/deps/sources.json pins.
set(CHAARFM_AUDIO_DIR ${CMAKE_CURRENT_LIST_DIR}/..)
set(_packed_coeffs ${CHAARFM_AUDIO_DIR}/deps/packed/libsamplerate-0.2.2/mid_qual_coeffs.h)
if(CHAARFM_BUILD_TESTS OR CHAARFM_LIBSAMPLERATE_SOURCE_DIR OR NOT EXISTS ${_packed_coeffs})
  include(${CMAKE_CURRENT_LIST_DIR}/libsamplerate.cmake)
  set(_coeffs_dir ${CHAARFM_LIBSAMPLERATE_SOURCE_DIR}/src)
else()
  get_filename_component(_coeffs_dir ${_packed_coeffs} DIRECTORY)
endif()
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
  file(READ ${CHAARFM_AUDIO_DIR}/deps/sources.json _sources_json)
  string(JSON _want_sha GET "${_sources_json}" libsamplerate files src/mid_qual_coeffs.h)
  file(SHA256 ${_coeffs_dir}/mid_qual_coeffs.h _have_sha)
  if(NOT _have_sha STREQUAL _want_sha)
    message(FATAL_ERROR "${_coeffs_dir}/mid_qual_coeffs.h has SHA-256 ${_have_sha}, not the pinned ${_want_sha}")
  endif()
endif()
message(STATUS "chaarfm_audio: sinc-medium table from ${_coeffs_dir}/mid_qual_coeffs.h")

add_library(chaarfm_audio STATIC
  ${CHAARFM_AUDIO_DIR}/src/audio/resample.cc
  ${CHAARFM_AUDIO_DIR}/src/audio/sinc_medium.cc
  ${CHAARFM_AUDIO_DIR}/src/audio/sinc_medium_table.cc
  ${CHAARFM_AUDIO_DIR}/src/audio/mel_frontend.cc)
set_source_files_properties(${CHAARFM_AUDIO_DIR}/src/audio/sinc_medium_table.cc PROPERTIES INCLUDE_DIRECTORIES ${_coeffs_dir})
target_include_directories(chaarfm_audio PUBLIC ${CHAARFM_AUDIO_DIR}/src)
set_target_properties(chaarfm_audio PROPERTIES
  POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
if(MSVC)
  target_compile_options(chaarfm_audio PRIVATE /O2 /fp:precise)
else()
  target_compile_options(chaarfm_audio PRIVATE -O3 -ffp-contract=off -fno-fast-math)
endif()
# one unit per ISA with its own flags, entered only after the CPU probe (SincDotBest)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64" AND NOT EMSCRIPTEN)
  set(_sinc_avx2 ${CHAARFM_AUDIO_DIR}/src/audio/sinc_dot_avx2.cc)
  set(_sinc_avx512 ${CHAARFM_AUDIO_DIR}/src/audio/sinc_dot_avx512.cc)
  target_sources(chaarfm_audio PRIVATE ${_sinc_avx2} ${_sinc_avx512})
  if(MSVC)
    set_source_files_properties(${_sinc_avx2} PROPERTIES COMPILE_OPTIONS "/arch:AVX2")
    set_source_files_properties(${_sinc_avx512} PROPERTIES COMPILE_OPTIONS "/arch:AVX512")
  else()
    set_source_files_properties(${_sinc_avx2} PROPERTIES COMPILE_OPTIONS "-mavx2")
    set_source_files_properties(${_sinc_avx512} PROPERTIES COMPILE_OPTIONS "-mavx512f")
  endif()
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64|ARM64")
  target_sources(chaarfm_audio PRIVATE ${CHAARFM_AUDIO_DIR}/src/audio/sinc_dot_neon.cc)
endif()
if(EMSCRIPTEN)  # native/wasm: SIMD128 (-msimd128 comes from chaarfm_engine)
  target_sources(chaarfm_audio PRIVATE ${CHAARFM_AUDIO_DIR}/src/audio/sinc_dot_wasm128.cc)
endif()
# ThreadPool (kernels/parallel.h) and the CPU probe come from the engine library
target_link_libraries(chaarfm_audio PUBLIC chaarfm_engine)

if(CHAARFM_BUILD_TESTS)
  # the reference, compiled without FMA contraction as on x86-64 and in its WASM build (GCC's
  # default for C on arm64 would fuse `left += icoeff * x`, changing its last bits)
  if(NOT MSVC)
    target_compile_options(samplerate PRIVATE -ffp-contract=off)
  endif()
  add_executable(chaarfm_resample_test ${CHAARFM_AUDIO_DIR}/test/resample_test.cc)
  target_include_directories(chaarfm_resample_test PRIVATE ${SAMPLERATE_INCLUDE})
  target_link_libraries(chaarfm_resample_test PRIVATE chaarfm_audio samplerate)
  target_compile_options(chaarfm_resample_test PRIVATE $<IF:$<CXX_COMPILER_ID:MSVC>,/O2,-O2>)
  # our resampler vs the library, same run (bench/native-pipeline.ts prints it when built)
  add_executable(chaarfm_resample_bench ${CHAARFM_AUDIO_DIR}/../bench/kernels/resample_bench.cc)
  target_include_directories(chaarfm_resample_bench PRIVATE ${SAMPLERATE_INCLUDE})
  target_link_libraries(chaarfm_resample_bench PRIVATE chaarfm_audio samplerate)
  target_compile_options(chaarfm_resample_bench PRIVATE $<IF:$<CXX_COMPILER_ID:MSVC>,/O2,-O2>)
endif()
