// SPDX-License-Identifier: MIT
// A Windows program that runs a Node script of the same name: `yt-dlp.exe a b` runs
// `%STAND_IN_NODE% yt-dlp.mjs a b` (the .mjs beside the .exe) with the same standard handles
// and returns its exit code. The CI's Windows leg uses it as a stand-in yt-dlp.exe (no Windows
// yt-dlp can be had here): the worker spawns it like the real one, without a shell.
// Built by scripts/ci/windows-leg.sh with x86_64-w64-mingw32-gcc -municode.
#include <windows.h>
#include <shellapi.h>
#include <stdlib.h>
#include <wchar.h>

static wchar_t *line;
static size_t len, cap;

static void put(wchar_t c) {
  if (len + 2 > cap) {
    cap = cap ? cap * 2 : 1024;
    line = realloc(line, cap * sizeof(wchar_t));
  }
  line[len++] = c;
  line[len] = 0;
}

// One argument, quoted the way CommandLineToArgvW and the C runtimes split it back.
static void put_arg(const wchar_t *a) {
  if (len) put(L' ');
  put(L'"');
  for (;; a++) {
    size_t slashes = 0;
    while (*a == L'\\') { a++; slashes++; }
    if (!*a) { for (size_t i = 0; i < slashes * 2; i++) put(L'\\'); break; }
    if (*a == L'"') { for (size_t i = 0; i < slashes * 2 + 1; i++) put(L'\\'); }
    else for (size_t i = 0; i < slashes; i++) put(L'\\');
    put(*a);
  }
  put(L'"');
}

int wmain(void) {
  wchar_t self[MAX_PATH * 4];
  DWORD n = GetModuleFileNameW(NULL, self, MAX_PATH * 4);
  if (n < 4 || _wcsicmp(self + n - 4, L".exe") != 0) return 125;
  wcscpy(self + n - 4, L".mjs");
  const wchar_t *node = _wgetenv(L"STAND_IN_NODE");
  if (!node || !*node) { fwprintf(stderr, L"stand-in: STAND_IN_NODE is not set\n"); return 125; }
  int argc = 0;
  wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  put_arg(node);
  put_arg(self);
  for (int i = 1; i < argc; i++) put_arg(argv[i]);
  STARTUPINFOW si = {0};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION pi;
  if (!CreateProcessW(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
    fwprintf(stderr, L"stand-in: cannot start %ls (error %lu)\n", node, GetLastError());
    return 125;
  }
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  return (int)code;
}
