# SPDX-License-Identifier: MIT
# Cross build for Linux arm64 with Debian's crossbuild-essential-arm64 (aarch64-linux-gnu-gcc 12).
# The results run here under qemu-user-static without -L: the loader and libraries come from the
# multiarch libc6:arm64 and libstdc++6:arm64 in /lib/aarch64-linux-gnu (with -L /usr/aarch64-linux-gnu,
# the cross toolchain's libc, programs hang in pthread_create under qemu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
