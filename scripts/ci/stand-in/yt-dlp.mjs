// SPDX-License-Identifier: MIT
/**
 * A stand-in yt-dlp for the CI's Windows leg (run by launcher.c as yt-dlp.exe): it answers
 * `--version` (today's date, so no age check skips it), `--help`, and the download call the worker
 * makes (`-P DIR -o media.%(ext)s --print after_move:%()j ... -- URL`) by fetching the URL from the
 * local media server over HTTP into that folder and printing progress and the info JSON with
 * `filepath`, as yt-dlp does. Anything else fails with the arguments named.
 */
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { extname, join } from 'node:path';

const args = process.argv.slice(2);
const after = (f) => args[args.indexOf(f) + 1];
const d = new Date();
const version = `${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${String(d.getUTCDate()).padStart(2, '0')}`;
if (args.includes('--version')) {
  process.stdout.write(`${version}\n`);
} else if (args.includes('--help')) {
  process.stdout.write('Usage: yt-dlp [OPTIONS] URL [URL...]\n\nOptions:\n  General Options:\n    -h, --help    Print this help text and exit\n');
} else if (args.includes('--') && args.includes('-P') && args.includes('-o')) {
  const url = args[args.indexOf('--') + 1];
  // node:http, not fetch: undici's connect fails under Wine 8 ("connect UNKNOWN")
  const bytes = await new Promise((resolve, reject) => {
    get(url, (res) => {
      if (res.statusCode !== 200) {
        process.stderr.write(`ERROR: [generic] HTTP Error ${res.statusCode}: ${url}\n`);
        process.exit(1);
      }
      const parts = [];
      res.on('data', (d) => parts.push(d)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
    }).on('error', reject);
  });
  const ext = extname(new URL(url).pathname).slice(1) || 'bin';
  const file = join(after('-P'), after('-o').replace('%(ext)s', ext));
  writeFileSync(file, bytes);
  process.stdout.write(`[download] 100.0% of  ${(bytes.length / 1024).toFixed(2)}KiB at  1.00MiB/s ETA 00:00\n`);
  const id = new URL(url).pathname.split('/').pop().replace(/\.[^.]*$/, '');
  process.stdout.write(`${JSON.stringify({ id, title: id, ext, filepath: file, _filename: file, webpage_url: url, extractor: 'generic' })}\n`);
} else {
  process.stderr.write(`stand-in yt-dlp: unsupported call: ${JSON.stringify(args)}\n`);
  process.exit(2);
}
