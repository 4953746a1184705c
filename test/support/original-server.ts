// SPDX-License-Identifier: MIT
/**
 * How the original ChaarFM server reads a worker's download result (spec, "Worker → server"),
 * strictly: every field it knows must be there with the spec's type, or it refuses the frame;
 * it stores those fields and nothing else. A stand-in for tests that show our additions
 * (`data.tags`) change nothing there.
 */
export interface OriginalRecord {
  job_id: string;
  artist: string;
  title: string;
  youtube_id: string;
  vector: number[];
  source_url: string | null;
}

export function originalServerReads(frame: Record<string, unknown>): OriginalRecord {
  const fail = (why: string): never => {
    throw new Error(`the original server refuses this result: ${why}`);
  };
  if (frame.type !== 'result') fail(`type is ${JSON.stringify(frame.type)}`);
  if (typeof frame.job_id !== 'string' || !frame.job_id) fail('job_id is not a string');
  if (frame.status !== 'success') fail(`status is ${JSON.stringify(frame.status)}`);
  const d = frame.data as Record<string, unknown> | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) fail('data is not an object');
  for (const k of ['artist', 'title', 'youtube_id'] as const) if (typeof d![k] !== 'string') fail(`data.${k} is not a string`);
  if (!(typeof d!.source_url === 'string' || d!.source_url === null)) fail('data.source_url is neither a string nor null');
  const v = d!.vector;
  if (!Array.isArray(v) || v.length !== 200 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) fail('data.vector is not 200 finite numbers');
  return {
    job_id: frame.job_id as string,
    artist: d!.artist as string,
    title: d!.title as string,
    youtube_id: d!.youtube_id as string,
    vector: v as number[],
    source_url: d!.source_url as string | null,
  };
}
