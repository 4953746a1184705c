# SPDX-License-Identifier: MIT
# Cross build for Windows x64 with Debian's mingw-w64 (x86_64-w64-mingw32-g++ 12, posix thread
# model: std::thread needs it). The results run here under Wine; native/cmake/mingw-addon.cmake
# makes the Node-API import library (node.exe, delay-loaded) and links libstdc++, libgcc and
# winpthread statically, so the addon imports only Windows' own DLLs and node.exe.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_DLLTOOL x86_64-w64-mingw32-dlltool)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# GCC on Windows does not align the stack beyond 16 bytes, so AVX spills with aligned moves can
# fault (GCC bug 54412): the assembler turns every aligned vector move into an unaligned one.
set(CMAKE_C_FLAGS_INIT "-Wa,-muse-unaligned-vector-move")
set(CMAKE_CXX_FLAGS_INIT "-Wa,-muse-unaligned-vector-move")
set(CMAKE_CROSSCOMPILING_EMULATOR wine)
