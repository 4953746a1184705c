# SPDX-License-Identifier: MIT
# libsamplerate built from its pinned source (native/deps/sources.json; brought and checked by
# native/deps/fetch-source.mjs into the user cache, never copied into this repository) as a static
# library: target `samplerate`, headers in CHAARFM_LIBSAMPLERATE_SOURCE_DIR/include.
#   -DCHAARFM_LIBSAMPLERATE_SOURCE_DIR=<unpacked libsamplerate-0.2.2>  use that folder instead.
# Only the sinc-medium converter's code paths matter to us; all converters are built (the library's
# defaults) so it is the library as released.
if(NOT CHAARFM_LIBSAMPLERATE_SOURCE_DIR)
  find_program(CHAARFM_NODE NAMES node node.exe REQUIRED)
  execute_process(
    COMMAND ${CHAARFM_NODE} ${CMAKE_CURRENT_LIST_DIR}/../deps/fetch-source.mjs libsamplerate
    OUTPUT_VARIABLE _lsr_dir OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_VARIABLE _lsr_err RESULT_VARIABLE _lsr_rc)
  if(NOT _lsr_rc EQUAL 0)
    message(FATAL_ERROR "libsamplerate source not available:\n${_lsr_err}")
  endif()
  set(CHAARFM_LIBSAMPLERATE_SOURCE_DIR ${_lsr_dir} CACHE PATH "Unpacked pinned libsamplerate source")
endif()
if(NOT EXISTS ${CHAARFM_LIBSAMPLERATE_SOURCE_DIR}/src/src_sinc.c)
  message(FATAL_ERROR "CHAARFM_LIBSAMPLERATE_SOURCE_DIR=${CHAARFM_LIBSAMPLERATE_SOURCE_DIR} is not a libsamplerate source tree")
endif()
set(_lsr_saved_shared ${BUILD_SHARED_LIBS})
set(BUILD_SHARED_LIBS OFF)
set(LIBSAMPLERATE_EXAMPLES OFF CACHE BOOL "" FORCE)
set(LIBSAMPLERATE_INSTALL OFF CACHE BOOL "" FORCE)
set(BUILD_TESTING OFF CACHE BOOL "" FORCE)
add_subdirectory(${CHAARFM_LIBSAMPLERATE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/libsamplerate EXCLUDE_FROM_ALL)
set(BUILD_SHARED_LIBS ${_lsr_saved_shared})
set_target_properties(samplerate PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
set(SAMPLERATE_INCLUDE ${CHAARFM_LIBSAMPLERATE_SOURCE_DIR}/include)
set(SAMPLERATE_LIB samplerate)
message(STATUS "libsamplerate: static, from ${CHAARFM_LIBSAMPLERATE_SOURCE_DIR}")
