# SPDX-License-Identifier: MIT
# The MusiCNN graph engine: static library `chaarfm_engine` (graph executor, overlap reuse,
# kernels), its C++ tests (CHAARFM_BUILD_TESTS) and kernel benchmarks (CHAARFM_BUILD_BENCH).
# Included by the top-level CMakeLists.txt; also usable standalone from a scratch project.
# No kernel library: every kernel is our own (generic C++ always; AVX2+FMA and AVX-512F units
# on x86, NEON units on arm64, SIMD128 units under Emscripten), chosen at run time by
# src/kernels/cpu_features (CHAARFM_MAX_ISA).

set(CHAARFM_ENGINE_DIR ${CMAKE_CURRENT_LIST_DIR}/..)
option(CHAARFM_BUILD_TESTS "Build the native engine's C++ tests" OFF)
option(CHAARFM_BUILD_BENCH "Build the kernel benchmarks in bench/kernels" OFF)

add_library(chaarfm_engine STATIC
  ${CHAARFM_ENGINE_DIR}/src/kernels/parallel.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/cpu_features.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/matmul_ref_f32.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/matmul_dispatch_f32.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/conv_f32.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/conv_tall_f32.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/conv_wide_f32.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/conv_wide_dft.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/conv_tall_dft.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/pool_f32.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/batchnorm_f32.cc
  ${CHAARFM_ENGINE_DIR}/src/kernels/elementwise_f32.cc
  ${CHAARFM_ENGINE_DIR}/src/graph/graph_ops.cc
  ${CHAARFM_ENGINE_DIR}/src/graph/graph_executor.cc
  ${CHAARFM_ENGINE_DIR}/src/graph/timbral_stream.cc
  ${CHAARFM_ENGINE_DIR}/src/graph/musicnn_runner.cc)
target_include_directories(chaarfm_engine PUBLIC ${CHAARFM_ENGINE_DIR}/src)
target_compile_features(chaarfm_engine PUBLIC cxx_std_17)
set_target_properties(chaarfm_engine PROPERTIES
  POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
# No -march: the generic files must run on any x86-64 (SSE2 baseline; -O3 vectorises the
# element-wise loops). -ffp-contract=off (MSVC: /fp:precise, which does not contract) keeps
# a*b+c unfused so the reference kernels round the same way whatever the compiler's defaults.
if(MSVC)
  target_compile_options(chaarfm_engine PRIVATE /O2 /fp:precise)
else()
  target_compile_options(chaarfm_engine PRIVATE -O3 -ffp-contract=off)
endif()
# ISA-specific units: their own flags, entered only through the dispatch on CpuIsa()
# (cpu_features.h) in matmul_dispatch_f32.cc / conv_tall_f32.cc / conv_wide_f32.cc. x86 builds
# AVX2+FMA and AVX-512F units; arm64 builds NEON units (AdvSIMD is part of its base ISA, no
# flags); WebAssembly (Emscripten, which reports an x86 processor) builds the SIMD128 units with
# -msimd128 on every unit (below); other CPUs use the generic kernels only.
set(_k ${CHAARFM_ENGINE_DIR}/src/kernels)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64|i.86|x86" AND NOT EMSCRIPTEN)
  set(_avx2 ${_k}/conv_tall_avx2.cc ${_k}/conv_wide_avx2.cc ${_k}/conv_dft_avx2.cc ${_k}/matmul_avx2.cc)
  set(_avx512 ${_k}/conv_tall_avx512.cc ${_k}/conv_wide_avx512.cc ${_k}/conv_dft_avx512.cc
      ${_k}/matmul_avx512.cc)
  target_sources(chaarfm_engine PRIVATE ${_avx2} ${_avx512})
  if(MSVC)
    set_source_files_properties(${_avx2} PROPERTIES COMPILE_OPTIONS "/arch:AVX2")
    set_source_files_properties(${_avx512} PROPERTIES COMPILE_OPTIONS "/arch:AVX512")
  else()
    set_source_files_properties(${_avx2} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
    set_source_files_properties(${_avx512} PROPERTIES COMPILE_OPTIONS "-mavx512f;-mfma")
  endif()
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64|ARM64" AND NOT EMSCRIPTEN)
  target_sources(chaarfm_engine PRIVATE ${_k}/conv_tall_neon.cc ${_k}/conv_wide_neon.cc ${_k}/conv_dft_neon.cc
      ${_k}/matmul_neon.cc)
endif()
# WebAssembly (Emscripten, native/wasm/CMakeLists.txt): the SIMD128 family, -msimd128.
# CHAARFM_WASM_RELAXED (native/wasm): the same units with relaxed-SIMD FMA (wasm128_f32.h); the
# definition is public so the tests know which build they check.
if(EMSCRIPTEN)
  set(_wasm128 ${_k}/matmul_wasm128.cc ${_k}/conv_tall_wasm128.cc ${_k}/conv_wide_wasm128.cc)
  target_sources(chaarfm_engine PRIVATE ${_wasm128})
  target_compile_options(chaarfm_engine PUBLIC -msimd128)
  if(CHAARFM_WASM_RELAXED)
    target_compile_definitions(chaarfm_engine PUBLIC CHAARFM_WASM_RELAXED=1)
    set_source_files_properties(${_wasm128} PROPERTIES COMPILE_OPTIONS "-mrelaxed-simd")
  endif()
endif()
find_package(Threads REQUIRED)
target_link_libraries(chaarfm_engine PUBLIC Threads::Threads)

if(CHAARFM_BUILD_TESTS)
  add_executable(chaarfm_engine_test
    ${CHAARFM_ENGINE_DIR}/test/engine_test_main.cc
    ${CHAARFM_ENGINE_DIR}/test/kernels_test.cc
    ${CHAARFM_ENGINE_DIR}/test/ops_test.cc
    ${CHAARFM_ENGINE_DIR}/test/runner_test.cc)
  target_link_libraries(chaarfm_engine_test PRIVATE chaarfm_engine)
  target_compile_options(chaarfm_engine_test PRIVATE $<IF:$<CXX_COMPILER_ID:MSVC>,/O2,-O2>)
endif()

if(CHAARFM_BUILD_BENCH)
  add_executable(chaarfm_kernel_bench ${CHAARFM_ENGINE_DIR}/../bench/kernels/kernel_bench.cc)
  target_link_libraries(chaarfm_kernel_bench PRIVATE chaarfm_engine)
  target_compile_options(chaarfm_kernel_bench PRIVATE $<IF:$<CXX_COMPILER_ID:MSVC>,/O2,-O2>)
  find_package(dnnl CONFIG QUIET)
  if(dnnl_FOUND)
    target_compile_definitions(chaarfm_kernel_bench PRIVATE CHAARFM_BENCH_DNNL=1)
    target_link_libraries(chaarfm_kernel_bench PRIVATE DNNL::dnnl)
  endif()
  add_executable(chaarfm_engine_bench ${CHAARFM_ENGINE_DIR}/../bench/kernels/engine_bench.cc)
  target_link_libraries(chaarfm_engine_bench PRIVATE chaarfm_engine)
  target_compile_options(chaarfm_engine_bench PRIVATE $<IF:$<CXX_COMPILER_ID:MSVC>,/O2,-O2>)
endif()
