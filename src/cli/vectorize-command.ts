// SPDX-License-Identifier: MIT
/**
 * `chaarfm-worker vectorize <file-or-url>...`: embeddings without a server. One JSON line per
 * input on stdout ({"source","vector","duration","backend","ms"} and "tags" with --tags N), or
 * into --out FILE.jsonl / FILE.npy. A failing input prints one line on stderr and the others
 * go on; the exit code is 1 when any failed.
 */
import { createWriteStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { extname, resolve } from 'node:path';
import { BACKEND_CHOICES, type BackendChoice, type Embedder } from '../embed/embedder.js';
import { topTags } from '../embed/msd-tags.js';
import { MAX_THREADS } from '../embed/threads.js';
import { createLogger } from '../log/logger.js';
import { SILENCE_PEAK } from '../worker/job-runner.js';
import { createJobDir, jobRoot, removeJobDir, removeOwnJobDirsSync } from '../util/job-dirs.js';
import { encodeNpy } from '../util/npy.js';
import { UsageError } from './errors.js';
import { parseEnumFlag, parseIntFlag, parseStringFlag } from './options.js';
import { rawFlagValue } from './raw-args.js';
import type { CliIO } from './worker-command.js';

export interface VectorRecord {
  source: string;
  vector: number[];
  duration: number;
  backend: string;
  ms: number;
  tags?: { name: string; score: number }[];
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

export interface EmbeddingFlags {
  backend: BackendChoice;
  threads?: number;
  modelPath?: string;
  outputNode?: string;
  tmpDir?: string;
  ffmpegPath?: string;
  ytdlpPath?: string;
}

/** The flags shared by every command that embeds, validated. */
export function embeddingFlags(argv: readonly string[], opts: Record<string, unknown>): EmbeddingFlags {
  return {
    backend: parseEnumFlag('backend', opts.backend ?? 'auto', BACKEND_CHOICES),
    threads: opts.threads === undefined ? undefined : parseIntFlag('threads', opts.threads, 1, MAX_THREADS),
    modelPath: parseStringFlag('model', opts.model) && rawFlagValue(argv, 'model'),
    outputNode: parseStringFlag('output-node', opts.outputNode) && rawFlagValue(argv, 'output-node'),
    tmpDir: parseStringFlag('tmp-dir', opts.tmpDir) && rawFlagValue(argv, 'tmp-dir'),
    ffmpegPath: parseStringFlag('ffmpeg', opts.ffmpeg) && rawFlagValue(argv, 'ffmpeg'),
    ytdlpPath: parseStringFlag('yt-dlp', opts.ytDlp) && rawFlagValue(argv, 'yt-dlp'),
  };
}

export async function runVectorizeCommand(
  inputs: string[],
  argv: readonly string[],
  opts: Record<string, unknown>,
  io: CliIO,
): Promise<void> {
  if (!inputs.length) throw new UsageError('Expected at least one file or URL for vectorize');
  const flags = embeddingFlags(argv, opts);
  const tagCount = opts.tags === undefined ? 0 : parseIntFlag('tags', opts.tags, 1, 1000);
  const out = parseStringFlag('out', opts.out) && rawFlagValue(argv, 'out');
  const outKind = out ? extname(out).toLowerCase() : '';
  if (out && outKind !== '.jsonl' && outKind !== '.npy')
    throw new UsageError(`Expected a .jsonl or .npy file for --out but received ${JSON.stringify(out)}`);
  const log = createLogger({ format: 'pretty', stream: io.stderr, level: opts.verbose ? 'debug' : 'warn' });

  const { createEmbedder } = await import('../embed/create-embedder.js');
  const embedder: Embedder = await createEmbedder({
    ...flags,
    tagsNode: tagCount ? 'model/Sigmoid' : undefined,
    logger: log,
  });
  const root = jobRoot(flags.tmpDir);
  const onSignal = () => {
    removeOwnJobDirsSync(root);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const jsonl = outKind === '.jsonl' ? createWriteStream(resolve(out!)) : null;
  const vectors: Float32Array[] = [];
  let failures = 0;
  let media: import('../media/ytdlp-media.js').YtDlpMedia | null = null;
  try {
    for (const source of inputs) {
      const t0 = Date.now();
      let workDir: string | null = null;
      try {
        let path = source;
        if (isUrl(source)) {
          const { YtDlpMedia } = await import('../media/ytdlp-media.js');
          media ??= new YtDlpMedia({ ytdlpPath: flags.ytdlpPath, logger: log });
          workDir = await createJobDir(root);
          const audio = await media.fetch(
            { artist: null, title: null, youtube_url: source },
            { workDir, signal: new AbortController().signal, log, onProgress() {} },
          );
          path = audio.path;
        } else {
          const st = await stat(source).catch(() => null);
          if (!st?.isFile()) throw new Error('no such file');
        }
        const r = await embedder.embed(path);
        if (r.peak !== undefined && r.peak < SILENCE_PEAK)
          io.stderr.write(`chaarfm-worker: ${source}: warning: the audio is silent; a worker job would fail it\n`);
        const rec: VectorRecord = {
          source,
          vector: Array.from(r.vector),
          duration: Number(r.duration.toFixed(3)),
          backend: embedder.backend,
          ms: Date.now() - t0,
        };
        if (tagCount && r.tags) rec.tags = topTags(r.tags, tagCount).map((t) => ({ name: t.name, score: Number(t.score.toFixed(6)) }));
        vectors.push(r.vector);
        const line = JSON.stringify(rec) + '\n';
        if (jsonl) {
          if (!jsonl.write(line)) await once(jsonl, 'drain');
        } else if (!out) io.stdout.write(line);
      } catch (e) {
        failures++;
        io.stderr.write(`chaarfm-worker: ${source}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}\n`);
      } finally {
        if (workDir) await removeJobDir(workDir);
      }
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await embedder.close();
    if (jsonl) {
      jsonl.end();
      await once(jsonl, 'close');
    }
  }
  if (outKind === '.npy') await writeFile(resolve(out!), encodeNpy(vectors, vectors[0]?.length ?? 200));
  if (out) io.stderr.write(`wrote ${vectors.length} vector(s) to ${out}\n`);
  if (failures) process.exitCode = 1;
}
