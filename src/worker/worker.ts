// SPDX-License-Identifier: MIT
/**
 * The worker: N sockets to one server and code, sharing one Media and one loaded Embedder, so
 * one process runs N jobs at once (the server sees N workers). `startWorker` is the library
 * entry point; the CLI is a thin layer over it.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { BackendChoice, Embedder } from '../embed/embedder.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { Media } from '../media/media.js';
import { DEFAULT_SERVER_URL, keepaliveUrl, normaliseCode, normaliseServerUrl, workerSocketUrl } from '../protocol/url.js';
import { jobRoot } from '../util/job-dirs.js';
import { VERSION } from '../version.js';
import type { BackoffOptions } from './backoff.js';
import { WorkerConnection, type ConnectionEvents } from './connection.js';
import { KeepAlive } from './keepalive.js';
import { StaleSweeper } from './stale-sweeper.js';

export interface WorkerOptions {
  /** Server URL; default https://chaarfm.onrender.com */
  url?: string;
  /** Pairing code. */
  code: string;
  /** Sockets (= jobs at once) in this process; default 1. */
  jobs?: number;
  /** Name sent in the hello message; default the host name. */
  name?: string;
  logger?: Logger;
  /** Use this embedder (not closed by stop()). Default: createEmbedder() with the options below. */
  embedder?: Embedder;
  /** Use this media layer. Default: yt-dlp. */
  media?: Media;
  backend?: BackendChoice;
  modelPath?: string;
  outputNode?: string;
  threads?: number;
  tmpDir?: string;
  ytdlpPath?: string;
  /** Extra arguments for every yt-dlp run (`--yt-dlp-arg`): extractor args, plugin folders. */
  ytdlpArgs?: readonly string[];
  /** Least time between the starts of two YouTube requests, over all sockets (default 2 s). */
  youtubeGapMs?: number;
  ffmpegPath?: string;
  /**
   * A job running longer than this fails (default 20 min; 0 = no limit). A server that names its
   * lease (our coordinator does, in the upgrade response) cuts it to end before that lease.
   */
  jobTimeoutMs?: number;
  reconnect?: BackoffOptions;
  /** Keep-alive interval (default 10 min). 0 = off. */
  keepaliveMs?: number;
  /** Client WebSocket ping interval (default 30 s). 0 = off. */
  heartbeatMs?: number;
  progressIntervalMs?: number;
  /**
   * How often temp folders left by dead processes are looked for while running (default 30 s;
   * 0 = only at start). A killed worker's tools may write there for a moment after its restart.
   */
  staleSweepMs?: number;
}

export type WorkerEvents = ConnectionEvents;

export interface WorkerHandle extends EventEmitter<WorkerEvents> {
  readonly socketUrl: string;
  readonly backend: string;
  readonly jobs: number;
  /** How many sockets are open now. */
  connectedCount(): number;
  /** Stop taking jobs, close the sockets (the server requeues jobs in hand), remove temp files. */
  stop(): Promise<void>;
}

function checkJobs(n: unknown): number {
  if (n === undefined) return 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 64)
    throw new RangeError(`Expected an integer from 1 to 64 for jobs but received ${JSON.stringify(n)}`);
  return n;
}

class Worker extends EventEmitter<WorkerEvents> implements WorkerHandle {
  private stopping: Promise<void> | null = null;
  constructor(
    readonly socketUrl: string,
    readonly backend: string,
    readonly jobs: number,
    private readonly connections: WorkerConnection[],
    private readonly keepalive: KeepAlive,
    private readonly cleanup: () => Promise<void>,
  ) {
    super();
  }

  connectedCount(): number {
    return this.connections.filter((c) => c.isOpen).length;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.keepalive.stop();
      await Promise.all(this.connections.map((c) => c.stop()));
      await this.cleanup();
    })();
    return this.stopping;
  }
}

export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const serverUrl = normaliseServerUrl(options.url ?? DEFAULT_SERVER_URL);
  const code = normaliseCode(options.code);
  const jobs = checkJobs(options.jobs);
  const log = options.logger ?? silentLogger;
  const tmpRoot = jobRoot(options.tmpDir);
  const sweeper = new StaleSweeper(tmpRoot, log);
  await sweeper.sweep();

  let embedder = options.embedder;
  const ownEmbedder = !embedder;
  if (!embedder) {
    const { createEmbedder } = await import('../embed/create-embedder.js');
    embedder = await createEmbedder({
      backend: options.backend,
      modelPath: options.modelPath,
      outputNode: options.outputNode,
      // The tag scores ride along with each result (data.tags); a model of your own may lack the node.
      tagsNode: options.modelPath ? undefined : 'model/Sigmoid',
      threads: options.threads,
      tmpDir: options.tmpDir,
      ffmpegPath: options.ffmpegPath,
      logger: log,
    });
  }
  const theEmbedder = embedder;
  let media = options.media;
  if (!media) {
    const { YtDlpMedia } = await import('../media/ytdlp-media.js');
    const { YouTubeGate } = await import('../media/youtube-gate.js');
    const ytdlp = new YtDlpMedia({
      ytdlpPath: options.ytdlpPath,
      logger: log,
      extraArgs: options.ytdlpArgs,
      gate: new YouTubeGate({ gapMs: options.youtubeGapMs }),
    });
    // in the background: asking yt-dlp (two Python starts) must not hold up the start or Ctrl+C
    void ytdlp.runtimeProblem().then((problem) => problem && log.warn(problem), () => {});
    media = ytdlp;
  }

  const socketUrl = workerSocketUrl(serverUrl, code);
  const baseName = options.name ?? hostname();
  const connections: WorkerConnection[] = [];
  for (let i = 0; i < jobs; i++) {
    connections.push(
      new WorkerConnection({
        index: i,
        socketUrl,
        hello: {
          name: jobs > 1 ? `${baseName}#${i + 1}` : baseName,
          version: VERSION,
          backend: theEmbedder.backend,
          jobs,
          platform: `${process.platform}-${process.arch} node-${process.versions.node}`,
        },
        runner: {
          media,
          embedder: async () => theEmbedder,
          tmpRoot,
          log,
          timeoutMs: options.jobTimeoutMs ?? 20 * 60 * 1000,
        },
        log,
        backoff: options.reconnect,
        heartbeatMs: options.heartbeatMs,
        progressIntervalMs: options.progressIntervalMs,
        userAgent: `chaarfm-worker/${VERSION}`,
      }),
    );
  }
  const keepalive = new KeepAlive(
    keepaliveUrl(serverUrl),
    () => connections.some((c) => c.isOpen),
    log,
    options.keepaliveMs ?? 10 * 60 * 1000,
  );
  const worker = new Worker(socketUrl, theEmbedder.backend, jobs, connections, keepalive, async () => {
    sweeper.stop();
    if (ownEmbedder) await theEmbedder.close().catch(() => {});
  });
  const emit = worker.emit.bind(worker) as (name: string, ...args: unknown[]) => boolean;
  const forward = (name: keyof WorkerEvents) =>
    connections.forEach((c) => (c as EventEmitter).on(name, (...args: unknown[]) => emit(name, ...args)));
  forward('connected');
  forward('disconnected');
  forward('job-started');
  forward('job-progress');
  forward('job-finished');
  keepalive.start();
  sweeper.start(options.staleSweepMs ?? 30_000);
  for (const c of connections) c.start();
  return worker;
}
