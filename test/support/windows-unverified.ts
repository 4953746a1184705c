// SPDX-License-Identifier: MIT
/**
 * What Wine cannot stand in for, so what CI never verifies on Windows (the README's "What works"
 * names the same list). A test that needs one of these skips on Windows, Wine included, with the
 * reason, so the report says what was not verified; it never passes there unexamined.
 * (Symlinks are not here: the tests that link have a variant that copies where no link can be
 * made or followed, as under Wine, and run everywhere.)
 */
export const WINDOWS_UNVERIFIED = {
  ctrlC:
    'needs Ctrl+C, a console control event on Windows (child.kill("SIGINT") ends the process at once there), which Wine cannot stand in for: not verified on Windows',
  taskkillTree:
    "needs yt-dlp's process tree stopped, taskkill /T on Windows, which Wine cannot stand in for: not verified on Windows",
} as const;

/** The skip reason on Windows for what the test needs, else false. */
export function unverifiedOnWindows(what: keyof typeof WINDOWS_UNVERIFIED, platform: NodeJS.Platform = process.platform): string | false {
  return platform === 'win32' && WINDOWS_UNVERIFIED[what];
}
