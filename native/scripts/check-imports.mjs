// SPDX-License-Identifier: MIT
/**
 * What a built addon imports, checked against what every system of its platform has:
 *   Linux (readelf -d, works for any architecture): glibc's own libraries only;
 *   Windows (objdump of the PE file): Windows' own DLLs only as load-time imports, and node.exe
 *   delay-loaded (so the addon also loads in a renamed node.exe, i.e. the single executable).
 *   GNU ld leaves the PE's delay-import directory entry empty, so delay-loading is seen in the
 *   symbol table of the unstripped build: mingw's __delayLoadHelper2 and the handle of the
 *   Node-API delay library (native/cmake/mingw-addon.cmake) with the name node.exe in the file.
 *   Run it on the file before stripping; the Wine leg then loads it inside a renamed node.exe.
 * checkImports(file, target) returns null when fine, else the reason; macOS is checked by otool
 * in the workflow. A missing tool is a reason too: a check that cannot run does not pass.
 *   node native/scripts/check-imports.mjs <file> <target>
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Libraries every glibc Linux has (the C library, its loader, libm, pthread, dl, rt). */
const LINUX_SYSTEM = /^(ld-linux[-\w.]*|libc|libm|libpthread|libdl|librt)\.so/;
/** DLLs every Windows 10+ has (what mingw-w64's static runtime imports). */
const WINDOWS_SYSTEM = /^(kernel32|msvcrt|advapi32|user32|ws2_32|bcrypt|ntdll|api-ms-win-[\w-]+)\.dll$/i;

function tool(cmd, args) {
  try {
    return { out: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    return { error: `${cmd} failed (${err.code === 'ENOENT' ? 'not installed' : String(err.stderr || err.message).split('\n')[0]})` };
  }
}

const OBJDUMP = process.platform === 'linux' ? 'x86_64-w64-mingw32-objdump' : 'objdump';

/** The load-time imports of a PE file (DLL names), from objdump -p. */
export function peImports(file) {
  const r = tool(OBJDUMP, ['-p', file]);
  if (r.error) return r;
  const imports = [];
  let inImports = false;
  for (const line of r.out.split('\n')) {
    if (/^The Import Tables/.test(line)) inImports = true;
    else if (/^The \w/.test(line)) inImports = false;
    const m = /DLL Name:\s*(\S+)/.exec(line);
    if (m && inImports) imports.push(m[1]);
  }
  return { imports };
}

/** Whether an unstripped mingw build delay-loads node.exe (see above); null or the reason not. */
function peDelayLoadsNode(file) {
  const r = tool(OBJDUMP, ['-t', file]);
  if (r.error) return r.error;
  if (!/\s__delayLoadHelper2$/m.test(r.out)) return 'no delay-load helper (__delayLoadHelper2) in the symbol table: node.exe is not delay-loaded, or the file is stripped';
  if (!/\s__DLL_HANDLE_\w*node_api_delay\w*$/m.test(r.out)) return 'the Node-API delay-load library (libnode_api_delay.a) is not linked';
  if (!readFileSync(file).includes(Buffer.from('node.exe\0'))) return 'the delay-load tables do not name node.exe';
  return null;
}

export function checkImports(file, target) {
  if (target.startsWith('linux-')) {
    const r = tool('readelf', ['-d', file]);
    if (r.error) return r.error;
    const needed = [...r.out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    const other = needed.filter((n) => !LINUX_SYSTEM.test(n));
    return other.length ? `needs libraries a bare system may lack: ${other.join(', ')}` : null;
  }
  if (target.startsWith('win32-')) {
    const r = peImports(file);
    if (r.error) return r.error;
    const other = r.imports.filter((n) => !WINDOWS_SYSTEM.test(n));
    if (other.length) return `imports DLLs Windows does not have, or node.exe at load time (it must be delay-loaded): ${other.join(', ')}`;
    return peDelayLoadsNode(file);
  }
  return null;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, target] = process.argv.slice(2);
  const problem = checkImports(file, target);
  if (problem) {
    console.error(`check-imports: ${file}: ${problem}`);
    process.exit(1);
  }
  console.log(`check-imports: ${file}: only system libraries${target.startsWith('win32') ? ' (node.exe delay-loaded)' : ''}`);
}
