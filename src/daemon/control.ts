import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { httpJson } from '../core/http-json.js';
import { localUrl } from '../core/local-url.js';
import { daemonLogFile } from '../config/paths.js';
import { cliEntry } from '../core/version.js';
import type { Paths } from '../config/paths.js';
import type { DaemonInfo } from './lock.js';
import { isAlive, readDaemonInfo } from './lock.js';


export async function isHealthy(baseUrl: string, timeoutMs = 500): Promise<boolean> {
  try {
    const r = await httpJson('GET', `${baseUrl}/health`, undefined, { timeoutMs });
    return r.status === 200;
  } catch {
    return false;
  }
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

/** SIGTERM, wait for a graceful exit, SIGKILL as a last resort. */
export async function stopDaemon(paths: Paths, port: number, timeoutMs = 10_000): Promise<{ stopped: boolean; pid?: number; forced?: boolean }> {
  const info = readDaemonInfo(paths, port);
  if (!info) return { stopped: false };
  try {
    process.kill(info.pid, 'SIGTERM');
  } catch {
    return { stopped: true, pid: info.pid };
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(info.pid)) {
      readDaemonInfo(paths, port); // clears the record if the daemon could not
      return { stopped: true, pid: info.pid };
    }
    await sleep(25);
  }
  try {
    process.kill(info.pid, 'SIGKILL');
  } catch {
    // gone
  }
  // SIGKILL is not instant (a process in the kernel finishes its call first): a start right after
  // must not find it still holding the port
  const killedBy = Date.now() + 3000;
  while (isAlive(info.pid) && Date.now() < killedBy) await sleep(25);
  readDaemonInfo(paths, port);
  return { stopped: true, pid: info.pid, forced: true };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
