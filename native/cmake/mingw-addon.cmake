# SPDX-License-Identifier: MIT
# The Windows addon built with mingw-w64 (native/cmake/toolchains/win32-x64-mingw.cmake), what
# cmake-js does for MSVC on a Windows host:
#   - the Node-API import library, made by dlltool from the node-api-headers package's .def
#     (every napi_* symbol, exported by node.exe), as a delay-load library;
#   - native/src/win_delay_load_hook.cc: when the addon first calls into node.exe, the hook hands
#     the delay-load helper the running process instead, so the addon also loads inside a
#     renamed node.exe (the single executable chaarfm-worker-win-x64.exe);
#   - libstdc++, libgcc and winpthread linked statically: only Windows' own DLLs are imported.
# Expects the target ${PROJECT_NAME} (the addon) to exist.
find_program(CHAARFM_NODE NAMES node node.exe REQUIRED)
find_program(CHAARFM_DLLTOOL NAMES ${CMAKE_DLLTOOL} x86_64-w64-mingw32-dlltool dlltool REQUIRED)
execute_process(
  COMMAND ${CHAARFM_NODE} -p "require.resolve('node-api-headers/def/node_api.def')"
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  OUTPUT_VARIABLE CHAARFM_NODE_API_DEF OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _def_rc)
if(NOT _def_rc EQUAL 0 OR NOT EXISTS "${CHAARFM_NODE_API_DEF}")
  message(FATAL_ERROR "node-api-headers/def/node_api.def not found (npm install: it comes with cmake-js)")
endif()
set(CHAARFM_NODE_DELAYLIB ${CMAKE_BINARY_DIR}/libnode_api_delay.a)
add_custom_command(
  OUTPUT ${CHAARFM_NODE_DELAYLIB}
  COMMAND ${CHAARFM_DLLTOOL} --input-def ${CHAARFM_NODE_API_DEF} --dllname node.exe --output-delaylib ${CHAARFM_NODE_DELAYLIB}
  DEPENDS ${CHAARFM_NODE_API_DEF}
  COMMENT "Node-API delay-load import library for node.exe")
add_custom_target(chaarfm_node_delaylib DEPENDS ${CHAARFM_NODE_DELAYLIB})
add_dependencies(${PROJECT_NAME} chaarfm_node_delaylib)
target_sources(${PROJECT_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/native/src/win_delay_load_hook.cc)
target_link_libraries(${PROJECT_NAME} PRIVATE ${CHAARFM_NODE_DELAYLIB})
target_link_options(${PROJECT_NAME} PRIVATE -static -static-libstdc++ -static-libgcc -Wl,--exclude-all-symbols)
foreach(_test chaarfm_engine_test chaarfm_resample_test chaarfm_resample_bench)  # the .exe run under Wine
  if(TARGET ${_test})
    target_link_options(${_test} PRIVATE -static -static-libstdc++ -static-libgcc)
  endif()
endforeach()
