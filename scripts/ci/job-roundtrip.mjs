// SPDX-License-Identifier: MIT
/**
 * One real job through a worker started by the given command (the CI legs run a Windows
 * executable under Wine this way): a local coordinator (src/coordinator/server.ts, in memory) and
 * a local media server for the clips folder; the job queued is the URL of track.wav; the worker
 * downloads it with whatever yt-dlp it is given and must send back the vector equal, bit for bit,
 * to the one in --expect (a `vectorize` output of the same program).
 *   node scripts/ci/job-roundtrip.mjs --clips DIR --expect FILE --log PREFIX [--cwd DIR] -- CMD ARGS...
 * The worker's stdout and stderr go to PREFIX.out/.err (a program under Wine cannot write to a
 * pipe); they are printed when the job fails. Needs npm run build (dist/).
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { startCoordinator } from '../../dist/src/coordinator/server.js';
import { api, newSession } from '../../dist/test/support/coordinator.js';
import { MediaServer } from '../../dist/test/support/media-server.js';
import { waitUntil } from '../../dist/test/support/wait.js';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const opt = (n) => (argv.indexOf(n) >= 0 && argv.indexOf(n) < sep ? argv[argv.indexOf(n) + 1] : undefined);
const cmd = sep >= 0 ? argv.slice(sep + 1) : [];
const [clips, expectFile, logPrefix] = [opt('--clips'), opt('--expect'), opt('--log')];
if (!clips || !expectFile || !logPrefix || !cmd.length) {
  console.error('usage: job-roundtrip.mjs --clips DIR --expect FILE --log PREFIX [--cwd DIR] -- CMD ARGS...');
  process.exit(2);
}
const expected = JSON.parse(readFileSync(expectFile, 'utf8').trim().split('\n').at(-1)).vector;
const t0 = Date.now();
const media = await MediaServer.start(clips);
const coord = await startCoordinator({ port: 0, db: ':memory:', heartbeatMs: 0 });
let worker;
let code = 1;
try {
  const session = await newSession(coord.url);
  const q = await api(coord.url, `/api/sessions/${session}/jobs`, { body: { lines: [media.url('track.wav')] } });
  if (q.status >= 300) throw new Error(`queueing the job: ${JSON.stringify(q.body)}`);
  const out = openSync(`${logPrefix}.out`, 'w');
  const err = openSync(`${logPrefix}.err`, 'w');
  const args = [...cmd.slice(1), '--url', coord.url, '--code', session, '--jobs', '1', '--log-format', 'json'];
  worker = spawn(cmd[0], args, { cwd: opt('--cwd'), stdio: ['ignore', out, err] });
  const rows = await waitUntil(
    async () => {
      const r = await api(coord.url, `/api/sessions/${session}/results`);
      return Array.isArray(r.body) && r.body.length ? r.body : false;
    },
    240_000,
    'the job result',
  );
  const got = rows[0].vector;
  const same = got.length === 200 && got.every((x, i) => Object.is(Math.fround(x), Math.fround(expected[i])));
  const diff = Math.max(...got.map((x, i) => Math.abs(x - expected[i])));
  console.log(`job-roundtrip: result in ${((Date.now() - t0) / 1000).toFixed(1)} s, max |diff| to vectorize ${diff}: ${same ? 'bit-identical' : 'DIFFERENT'}`);
  code = same ? 0 : 1;
} catch (e) {
  console.error(`job-roundtrip: ${e.message}`);
  for (const f of ['out', 'err']) {
    try {
      console.error(`--- worker ${f}:\n${readFileSync(`${logPrefix}.${f}`, 'utf8').slice(-3000)}`);
    } catch {}
  }
} finally {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
  await coord.close();
  await media.stop();
}
process.exit(code);
