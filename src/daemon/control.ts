import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { httpJson } from '../core/http-json.js';
import { maskedUrl } from '../core/redact.js';
import { localUrl } from '../core/local-url.js';
import { daemonLogFile } from '../config/paths.js';
import { cliEntry } from '../core/version.js';
import type { Paths } from '../config/paths.js';
import { join, resolve } from 'node:path';
import { inspectOwner } from '../core/owner-lock.js';
import { isSameProcess, processIdentity } from '../core/process-alive.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import type { DaemonInfo } from './lock.js';
import { isAlive, lockFileOf, readDaemonInfo } from './lock.js';
import { findPortHolder, portHolderAdvice } from './port-holder.js';
import { HEALTH_CHECK_MS, WRITE_PROBE_MS } from '../server/health-limits.js';

/**
 * How long a CLI waits for a daemon's /health before it calls the daemon unresponsive: above
 * /health's worst case, where the database and Redis checks (HEALTH_CHECK_MS each, side by side)
 * come first, then the parts' checks (HEALTH_CHECK_MS) beside the SQLite write probe
 * (WRITE_PROBE_MS), plus a second for a loaded machine. A daemon whose Redis is down answers in
 * about HEALTH_CHECK_MS: a shorter wait took it for a hung process, or for a stranger to kill.
 */
export const HEALTH_ANSWER_MS = HEALTH_CHECK_MS + Math.max(HEALTH_CHECK_MS, WRITE_PROBE_MS) + 1000;

/**
 * What answers `GET /health` on a daemon's address: a CCO daemon (its pid, the store it reports,
 * whether it is healthy), something else (any web server answers /health with 200; `sidecar`: a
 * CCO daemon's sidecar, which answers on the daemon's port + 1), or nothing.
 */
export type HealthProbe =
  | { kind: 'none' }
  | { kind: 'other'; status: number; sidecar?: true }
  | { kind: 'cco'; healthy: boolean; pid: number; database: string | undefined; body: unknown };

export async function probeHealth(baseUrl: string, timeoutMs = HEALTH_ANSWER_MS): Promise<HealthProbe> {
  let r;
  try {
    r = await httpJson<{ service?: unknown; pid?: unknown; checks?: { database?: { location?: unknown } } }>('GET', `${baseUrl}/health`, undefined, { timeoutMs });
  } catch {
    return { kind: 'none' };
  }
  const b = r.body;
  if (b && typeof b === 'object' && b.service === 'orchestration-sidecar') return { kind: 'other', status: r.status, sidecar: true };
  if (!b || typeof b !== 'object' || b.service !== 'cco-daemon' || typeof b.pid !== 'number') return { kind: 'other', status: r.status };
  const location = b.checks?.database?.location;
  return { kind: 'cco', healthy: r.status === 200, pid: b.pid, database: typeof location === 'string' ? location : undefined, body: b };
}

/** Whether a CCO daemon answers healthy at `baseUrl` (not merely some server answering 200). */
export async function isHealthy(baseUrl: string, timeoutMs = 500): Promise<boolean> {
  const p = await probeHealth(baseUrl, timeoutMs);
  return p.kind === 'cco' && p.healthy;
}

/** The store a daemon of this home reports in /health (`checks.database.location`): password masked as the store does. */
export function expectedStoreLocation(config: Pick<DaemonConfig, 'storage'>, paths: Paths): string {
  if (config.storage.database_url) return maskedUrl(config.storage.database_url);
  return resolve(config.storage.sqlite_path || paths.databaseFile);
}

/**
 * Who answers on a port for a CLI that found no lock record: this home's daemon (`mine`, same
 * store, and the process that holds the port when the OS tells), a CCO daemon of another home
 * (`foreign`), something that is not CCO (`other`), or nothing.
 */
export type PortAnswer =
  | { kind: 'none' }
  | { kind: 'mine'; pid: number; identity: string | undefined }
  | { kind: 'foreign'; pid: number; database: string | undefined }
  | { kind: 'other'; sidecar?: true };

export async function whoAnswers(baseUrl: string, port: number, expectedStore: string, timeoutMs = HEALTH_ANSWER_MS): Promise<PortAnswer> {
  const p = await probeHealth(baseUrl, timeoutMs);
  if (p.kind === 'none') return { kind: 'none' };
  if (p.kind === 'other') return p.sidecar ? { kind: 'other', sidecar: true } : { kind: 'other' };
  const holder = findPortHolder(port);
  // /health's pid must be the process listening on the port (when /proc tells): an answer
  // relayed from elsewhere, or a pid reported by something else, is never signalled
  const holdsPort = holder === undefined || holder.pid === p.pid;
  const sameStore = p.database !== undefined && (p.database === expectedStore || safeResolve(p.database) === expectedStore);
  if (sameStore && holdsPort && isAlive(p.pid)) return { kind: 'mine', pid: p.pid, identity: processIdentity(p.pid) };
  return { kind: 'foreign', pid: p.pid, database: p.database };
}

const safeResolve = (p: string): string => (p.includes('://') ? p : resolve(p));

/**
 * The line for a port where something that is not a CCO daemon answers: who holds it (as the
 * launcher says it when the daemon cannot bind) and how to move. A CCO daemon's sidecar (the
 * guide's "use a different port: 8101" beside a daemon on 8100) is named as that, never as a
 * stranger to kill. `answer`: what /health said, when the caller has it.
 */
export function notCcoMessage(baseUrl: string, port: number, flagHint: string, answer: { sidecar?: true } = {}): string {
  const { who, fix, sidecarOf } = portHolderAdvice(port, flagHint, { answeredAsSidecar: answer.sidecar === true });
  if (sidecarOf) return `Port ${port} is the sidecar port of ${sidecarOf}, not a daemon's: its sidecar answers on ${baseUrl}. ${fix}.`;
  return `Something that is not a CCO daemon answers on ${baseUrl}: port ${port} is in use${who}. ${fix}.`;
}

/** `message` is the whole line to show: "Daemon failed to start: <why>" or "Failed to start daemon within N seconds". */
export type StartResult = { ok: true; info: DaemonInfo; ms: number } | { ok: false; message: string; logFile: string };

/**
 * Starts `cco run` detached (it outlives this process), then waits until it reports ready
 * (a ready file with its pid and chosen port) and answers /health, or until it exits or the
 * time runs out. Its startup errors are read back from its stderr file.
 */
export async function startDetached(
  paths: Paths,
  port: number,
  opts: {
    timeoutMs: number;
    extraArgs?: string[];
    env?: NodeJS.ProcessEnv;
    /**
     * When another process started the port's daemon meanwhile (Claude Code starts its MCP
     * servers together; several `cco` at once), wait for that one and use it instead of failing
     * with "already running".
     */
    joinConcurrentStart?: boolean;
  },
): Promise<StartResult> {
  const t0 = Date.now();
  mkdirSync(paths.runtimeDir, { recursive: true });
  mkdirSync(paths.logDir, { recursive: true });
  const ready = join(paths.runtimeDir, `ready-${process.pid}-${randomBytes(3).toString('hex')}.json`);
  const errFile = join(paths.logDir, `daemon-${port}.stderr`);
  const errFd = openSync(errFile, 'w', 0o600);
  const child = spawn(process.execPath, [cliEntry(), 'run', '--port', String(port), '--ready-file', ready, ...(opts.extraArgs ?? [])], {
    detached: true,
    stdio: ['ignore', 'ignore', errFd],
    env: opts.env ?? process.env,
  });
  closeSync(errFd);
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? 1;
  });
  child.unref();
  const deadline = t0 + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(ready)) {
      try {
        const info = JSON.parse(readFileSync(ready, 'utf8')) as DaemonInfo;
        rmSync(ready, { force: true });
        return { ok: true, info, ms: Date.now() - t0 };
      } catch {
        // half-written: read again
      }
    }
    if (exited !== null) break;
    await sleep(15);
  }
  rmSync(ready, { force: true });
  const other = opts.joinConcurrentStart && exited !== null ? readDaemonInfo(paths, port) : undefined;
  if (other && other.pid !== child.pid) {
    const url = localUrl(other.host, other.port);
    while (Date.now() < deadline) {
      if (await isHealthy(url)) return { ok: true, info: other, ms: Date.now() - t0 };
      if (!isAlive(other.pid)) break;
      await sleep(25);
    }
  }
  const stderr = existsSync(errFile) ? readFileSync(errFile, 'utf8').trim() : '';
  // the daemon's own line says "Daemon failed to start: ..." already
  const reason = stderr.split('\n').filter(Boolean).slice(-3).join('\n').replace(/^❌ /, '').replace(/^Daemon failed to start: /, '');
  // The guides' wording, so a search for the message finds them.
  const message = reason
    ? `Daemon failed to start: ${reason}`
    : exited !== null
      ? `Daemon failed to start: exited with code ${exited}`
      : `Failed to start daemon within ${Math.round(opts.timeoutMs / 100) / 10} seconds (not healthy yet)`;
  return { ok: false, message, logFile: daemonLogFile(paths, port) };
}

export interface StopResult {
  stopped: boolean;
  pid?: number;
  forced?: boolean;
  /** Found through /health: the port's lock file was missing or unreadable. */
  unrecorded?: boolean;
  /** The lock file could not be read; kept here. */
  setAside?: string;
  /** Not stopped: what answers on the port instead (another home's daemon, or not CCO). */
  answer?: PortAnswer;
}

/**
 * SIGTERM, wait for a graceful exit, SIGKILL as a last resort. The daemon is the one the port's
 * lock records; without a readable record, the one answering /health on `target.baseUrl` when it
 * is this home's (it reports the same store) and holds the port.
 */
export async function stopDaemon(
  paths: Paths,
  port: number,
  opts: { timeoutMs?: number; target?: { baseUrl: string; store: string } } = {},
): Promise<StopResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const state = inspectOwner<DaemonInfo>(lockFileOf(paths, port));
  const aside = state.setAside ? { setAside: state.setAside } : {};
  let pid = state.owner?.pid;
  let identity = state.owner?.identity;
  let unrecorded = false;
  if (pid === undefined) {
    const answer = opts.target ? await whoAnswers(opts.target.baseUrl, port, opts.target.store) : ({ kind: 'none' } as const);
    if (answer.kind !== 'mine') return { stopped: false, ...aside, ...(answer.kind !== 'none' ? { answer } : {}) };
    ({ pid, identity } = answer);
    unrecorded = true;
  }
  const done = (extra: { forced?: boolean } = {}): StopResult => ({ stopped: true, pid, ...extra, ...(unrecorded ? { unrecorded } : {}), ...aside });
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return done();
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isSameProcess(pid, identity)) {
      readDaemonInfo(paths, port); // clears the record if the daemon could not
      return done();
    }
    await sleep(25);
  }
  // still the same process (its pid has not gone to another one meanwhile)
  if (isSameProcess(pid, identity)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  // SIGKILL is not instant (a process in the kernel finishes its call first): a start right after
  // must not find it still holding the port
  const killedBy = Date.now() + 3000;
  while (isSameProcess(pid, identity) && Date.now() < killedBy) await sleep(25);
  readDaemonInfo(paths, port);
  return done({ forced: true });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
