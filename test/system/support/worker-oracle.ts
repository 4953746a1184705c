// SPDX-License-Identifier: MIT
/**
 * What the worker must answer to one frame from the server: a result for a job id, a pong, or
 * nothing. `expectFor` derives it from the protocol's own validator (the fuzz pass needs that
 * for thousands of random frames); `HAND_CASES` are frames whose verdict is written here by
 * hand from the README's "Protocol" rules, independently of that code, and both the oracle
 * (test/worker-oracle.test.ts) and the real worker (test/system/fuzz-worker.test.ts) are
 * checked against them.
 */
import { MAX_FRAME_BYTES, parseServerFrame } from '../../../src/protocol/messages.js';

/** What the worker must send back for one frame on one socket. */
export interface Expect {
  jobId?: string;
  pong?: boolean;
}

/** The oracle: what the worker's own rules say a frame deserves (see README "Protocol"). */
export function expectFor(data: string | Buffer, binary: boolean): Expect {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (buf.length > MAX_FRAME_BYTES) {
    const head = buf.subarray(0, 65536).toString('utf8');
    if (!/"type"\s*:\s*"job"/.test(head)) return {};
    const m = /"job_id"\s*:\s*"([^"\\]{1,200})"/.exec(head);
    return m ? { jobId: m[1] } : {};
  }
  const p = parseServerFrame(buf, binary);
  if (p.ok) return p.message.type === 'ping' ? { pong: true } : { jobId: p.message.job_id };
  return p.jobId ? { jobId: p.jobId } : {};
}

export interface HandCase {
  why: string;
  frame: string | Buffer;
  binary: boolean;
  expect: Expect;
}

const big = 'x'.repeat(MAX_FRAME_BYTES + 10);
const song = '{"artist":"A","title":"T","youtube_url":null}';
const text = (why: string, frame: string, expect: Expect): HandCase => ({ why, frame, binary: false, expect });

/** Verdicts written by hand: a job id is answered (success or failed), a ping gets a pong. */
export const HAND_CASES: HandCase[] = [
  text('a ping', '{"type":"ping"}', { pong: true }),
  text('a ping with an extra field', '{"type":"ping","n":1}', { pong: true }),
  text('a ping with whitespace around it', ' \n{"type":"ping"}\t', { pong: true }),
  text('a valid download job', `{"type":"job","job_id":"hand-1","payload":${song}}`, { jobId: 'hand-1' }),
  text('a valid job with an extra top-level field', `{"type":"job","job_id":"hand-2","payload":${song},"x":true}`, { jobId: 'hand-2' }),
  text('a valid genre job', '{"type":"job","job_id":"hand-3","payload":{"job_type":"fetch_genre","genre":"rock","limit":3,"quality_config":null}}', { jobId: 'hand-3' }),
  text('a job whose payload has a wrong type: answered failed', '{"type":"job","job_id":"hand-4","payload":{"youtube_url":42}}', { jobId: 'hand-4' }),
  text('a job without a payload: answered failed', '{"type":"job","job_id":"hand-5"}', { jobId: 'hand-5' }),
  text('a job with a null payload: answered failed', '{"type":"job","job_id":"hand-6","payload":null}', { jobId: 'hand-6' }),
  text('a job id of 200 characters', `{"type":"job","job_id":"${'h'.repeat(200)}","payload":${song}}`, { jobId: 'h'.repeat(200) }),
  text('a job id of 201 characters: nothing to answer', `{"type":"job","job_id":"${'i'.repeat(201)}","payload":${song}}`, {}),
  text('an empty job id', `{"type":"job","job_id":"","payload":${song}}`, {}),
  text('a number as job id', `{"type":"job","job_id":42,"payload":${song}}`, {}),
  text('a job without a job id', `{"type":"job","payload":${song}}`, {}),
  text('not JSON', 'not json', {}),
  text('an empty frame', '', {}),
  text('a JSON array', '[1,2]', {}),
  text('JSON null', 'null', {}),
  text('a JSON string', '"ping"', {}),
  text('a pong (the server does not get answers)', '{"type":"pong"}', {}),
  text('an unknown type', '{"type":"reboot"}', {}),
  text('a number as type', '{"type":7}', {}),
  text('the type in capitals', '{"type":"PING"}', {}),
  text('the key in capitals', '{"TYPE":"ping"}', {}),
  text('a result frame (the worker sends those)', '{"type":"result","job_id":"hand-7","status":"success"}', {}),
  { why: 'a ping as a binary frame', frame: Buffer.from('{"type":"ping"}'), binary: true, expect: {} },
  { why: 'a valid job as a binary frame', frame: Buffer.from(`{"type":"job","job_id":"hand-8","payload":${song}}`), binary: true, expect: {} },
  text('a job over 1 MiB with its id near the start: answered failed', `{"type":"job","job_id":"hand-9","payload":{"artist":"${big}","title":"t","youtube_url":null}}`, { jobId: 'hand-9' }),
  text('a job over 1 MiB, id before type', `{"job_id":"hand-10","type":"job","payload":{"artist":"${big}"}}`, { jobId: 'hand-10' }),
  text('a ping over 1 MiB', `{"type":"ping","pad":"${big}"}`, {}),
  text('noise over 1 MiB', big, {}),
];
