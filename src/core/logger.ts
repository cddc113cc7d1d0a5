import { Writable } from 'node:stream';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { LogBuffer, levelName } from './log-buffer.js';
import type { LogRecord } from './log-buffer.js';
import { redactJsonText } from './redact.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** JSON lines are appended here (the daemon log). Omit for no file. */
  file?: string;
  /** Also write JSON lines to stdout (foreground runs with --log-stdout). */
  stdout?: boolean;
  /** Receives every record (for /api/logs and the live console). */
  buffer?: LogBuffer;
  /**
   * Size-based rotation of `file`: past `maxBytes` (10 MB) it becomes `<file>.1` (`.1` → `.2` …,
   * `keep` files, 3) and a new one is opened. `false`: never rotate.
   */
  rotate?: { maxBytes?: number; keep?: number } | false;
}

export const LOG_ROTATE_BYTES = 10 * 2 ** 20;
export const LOG_ROTATE_KEEP = 3;

/** Paths pino masks wherever they appear in a log object. */
const REDACT_PATHS = [
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'apiKey',
  'api_key',
  'token',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.authorization',
];

/**
 * Structured JSON logs with levels. Every line passes through the secret masker before it is
 * written, so a key that slips into a message string is still not on disk.
 */
export function createLogger(opts: LoggerOptions): { logger: Logger; buffer: LogBuffer; ready: Promise<void>; flush(): Promise<void> } {
  const buffer = opts.buffer ?? new LogBuffer();
  const streams: pino.StreamEntry[] = [];
  let ready: Promise<void> = Promise.resolve();
  let flush = (): Promise<void> => Promise.resolve();
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    // minLength 1: with 0, sonic-boom's flush(cb) calls back at once, before the lines are written
    // maxLength: while the file cannot be written (a full disk), lines wait in memory up to 8 MB,
    // then new ones are dropped
    const dest = pino.destination({ dest: opts.file, sync: false, mkdir: true, minLength: 1, maxLength: 8 * 2 ** 20, mode: 0o600 });
    // The file opens asynchronously; an exit before it is open would make pino's final flush throw.
    ready = new Promise((resolve) => {
      dest.once('ready', () => resolve());
      dest.once('error', () => resolve());
    });
    survivesWriteErrors(dest, opts.file, buffer);
    if (opts.rotate !== false) rotates(dest, opts.file, opts.rotate?.maxBytes ?? LOG_ROTATE_BYTES, opts.rotate?.keep ?? LOG_ROTATE_KEEP, buffer);
    // what was logged is in the file (before an exit that would lose the asynchronous writes)
    flush = async () => {
      await ready;
      await new Promise<void>((resolve) => {
        try {
          dest.flush(() => resolve());
        } catch {
          resolve();
        }
      });
    };
    streams.push({ level: 'trace', stream: dest });
  }
  if (opts.stdout) streams.push({ level: 'trace', stream: pino.destination({ dest: 1, sync: false }) });
  streams.push({ level: 'trace', stream: bufferStream(buffer) });
  const logger = pino(
    {
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      base: { pid: process.pid },
      // Lines the troubleshooting guides' commands read: `jq 'select(.level == "error")'`,
      // `grep -i error`, `jq 'select(.timestamp > "2026-01-15T00:00:00Z")'`. `time` (epoch ms)
      // stays for programs.
      formatters: { level: (label: string) => ({ level: label }) },
      timestamp: () => {
        const now = Date.now();
        return `,"time":${now},"timestamp":"${new Date(now).toISOString()}"`;
      },
      hooks: {
        // per value, not over the serialised line: a `TOKEN="…"` inside a string is masked
        // without breaking the line's JSON
        streamWrite: (s: string) => redactJsonText(s),
      },
    },
    pino.multistream(streams),
  );
  return { logger, buffer, ready, flush };
}

/**
 * A log file that cannot be written (ENOSPC, EIO) must not take the daemon with it. Unheard,
 * the destination's 'error' became an uncaught exception; pino's exit handler then flushed
 * synchronously, and sonic-boom's flushSync retries a failed write every 100 ms for ever: the
 * process hung with its ports open, answering nothing, until SIGKILL. Here the error is heard
 * (said once in /api/logs until a write succeeds again), and the final flush is skipped while
 * the file is failing: those lines are lost, the process is not.
 */
function survivesWriteErrors(dest: pino.DestinationStream & NodeJS.EventEmitter & { flushSync(): void }, file: string, buffer: LogBuffer): void {
  let failing = false;
  dest.on('error', (e: NodeJS.ErrnoException) => {
    if (failing) return;
    failing = true;
    buffer.push({ time: Date.now(), level: 'error', msg: `the daemon log ${file} cannot be written (${e.code ?? e.message}); lines are kept in memory (up to 8 MB) until it can`, code: e.code });
  });
  dest.on('write', () => {
    failing = false;
  });
  const flushSync = dest.flushSync.bind(dest);
  dest.flushSync = () => {
    if (!failing) flushSync();
  };
}

/**
 * Size-based rotation. The bytes the destination reports written are counted (one stat at
 * start for the size already there, none per line); past `maxBytes` the files shift by one
 * (`<file>.<keep>` is overwritten) and sonic-boom reopens `file`. Lines written meanwhile go
 * to the renamed file through the old descriptor, and sonic-boom switches only between
 * whole writes, so no line is lost or split; the new file gets the destination's mode (0600).
 * A device (`/dev/full`, `/dev/stdout`) is never renamed.
 */
function rotates(dest: NodeJS.EventEmitter & { reopen(): void }, file: string, maxBytes: number, keep: number, buffer: LogBuffer): void {
  let written: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return;
    written = st.size;
  } catch {
    written = 0;
  }
  if (!(maxBytes > 0)) return;
  keep = Math.max(1, Math.floor(keep));
  let rotating = false;
  dest.on('write', (n: number) => {
    written += n;
    if (rotating || written < maxBytes) return;
    written = 0;
    try {
      for (let i = keep - 1; i >= 0; i--) renameIfThere(i === 0 ? file : `${file}.${i}`, `${file}.${i + 1}`);
    } catch (e) {
      // tried again after another maxBytes
      buffer.push({ time: Date.now(), level: 'error', msg: `the daemon log ${file} could not be rotated (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); it grows until the next try`, code: (e as NodeJS.ErrnoException).code });
      return;
    }
    rotating = true;
    // a reopen that fails leaves the old descriptor writing (to `<file>.1`) and emits 'error'
    const done = (): void => {
      rotating = false;
      // what the old descriptor still wrote went to `<file>.1`
      written = 0;
      dest.off('ready', done);
      dest.off('error', done);
    };
    dest.once('ready', done);
    dest.once('error', done);
    dest.reopen();
  });
}

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function bufferStream(buffer: LogBuffer): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        const raw = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
        const rec: LogRecord = {
          ...raw,
          time: typeof raw.time === 'number' ? raw.time : Date.now(),
          level: typeof raw.level === 'number' ? levelName(raw.level) : String(raw.level ?? 'info'),
          msg: typeof raw.msg === 'string' ? raw.msg : '',
        };
        buffer.push(rec);
      } catch {
        // a record that is not JSON is not ours to keep
      }
      cb();
    },
  });
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
