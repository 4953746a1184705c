// SPDX-License-Identifier: MIT
// Windows (mingw-w64) only: the addon imports node.exe's Node-API functions through a delay-load
// import library (native/cmake/mingw-addon.cmake). When the first of them is called, the
// delay-load helper asks this hook before loading "node.exe"; the hook answers with the running
// process, which exports them whatever its file is called (node.exe, a renamed copy, the single
// executable).
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <delayimp.h>
#include <string.h>

static FARPROC WINAPI chaarfm_load_exe_hook(unsigned int event, PDelayLoadInfo info) {
  if (event != dliNotePreLoadLibrary) return nullptr;
  if (_stricmp(info->szDll, "node.exe") != 0) return nullptr;
  return reinterpret_cast<FARPROC>(GetModuleHandleA(nullptr));
}

extern "C" {
PfnDliHook __pfnDliNotifyHook2 = chaarfm_load_exe_hook;
}
#endif
