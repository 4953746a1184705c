// SPDX-License-Identifier: MIT
/** Structured logging: pretty lines for people, JSON lines for services. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'pretty' | 'json';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds these fields to every line. */
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go; defaults to process.stderr. */
  stream?: { write(s: string): unknown };
  /** Added to every line. */
  fields?: Record<string, unknown>;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const format = opts.format ?? 'pretty';
  const min = ORDER[opts.level ?? 'info'];
  const stream = opts.stream ?? process.stderr;
  const base = opts.fields ?? {};
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < min) return;
    const all = { ...base, ...fields };
    if (format === 'json') {
      const rec: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
      for (const [k, v] of Object.entries(all)) rec[k] = v instanceof Error ? v.message : v;
      stream.write(JSON.stringify(rec) + '\n');
    } else {
      const t = new Date().toISOString().slice(11, 19);
      const tag = level === 'info' ? '' : ` ${level.toUpperCase()}`;
      const kv = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' ');
      stream.write(`${t}${tag} ${msg}${kv ? '  ' + kv : ''}\n`);
    }
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
