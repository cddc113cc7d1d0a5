import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import { isAlive, isSameProcess, processIdentity } from '../core/process-alive.js';
import type { Paths } from '../config/paths.js';

/** What a running daemon records about itself, one file per port in the runtime directory. */
export interface DaemonInfo {
  pid: number;
  port: number;
  host: string;
  sidecarPort?: number | undefined;
  startedAt: number;
  version: string;
  logFile: string;
  /** Boot id and start time of the process (`processIdentity`): a pid alone may have come back. */
  identity?: string | undefined;
}

export const lockFileOf = (paths: Paths, port: number): string => join(paths.runtimeDir, `daemon-${port}.json`);

export { isAlive };

export class AlreadyRunningError extends Error {
  constructor(readonly info: DaemonInfo) {
    super(`Daemon already running on port ${info.port} (PID ${info.pid}). Stop it with \`cco daemon stop --port ${info.port}\` or use another port.`);
    this.name = 'AlreadyRunningError';
  }
}

/** The daemon recorded for a port, if its process is alive; a stale record is removed. */
export function readDaemonInfo(paths: Paths, port: number): DaemonInfo | undefined {
  const file = lockFileOf(paths, port);
  if (!existsSync(file)) return undefined;
  let info: DaemonInfo | undefined;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as DaemonInfo;
  } catch {
    info = undefined;
  }
  // Stale when its process is gone, or when the pid now belongs to another process (a container's
  // PID 1 after a restart, or any pid reused): then nothing holds the port, and nothing of ours
  // may be signalled under that pid.
  if (info && typeof info.pid === 'number' && isSameProcess(info.pid, info.identity) && !(info.pid === process.pid && info.identity === undefined && processIdentity() !== undefined)) return info;
  rmSync(file, { force: true });
  return undefined;
}

/**
 * Takes the port's lock (exclusive create). A lock left by a dead process is recovered; one
 * held by a live daemon throws AlreadyRunningError.
 */
export function acquireLock(paths: Paths, info: DaemonInfo): { update(next: Partial<DaemonInfo>): void; release(): void } {
  const file = lockFileOf(paths, info.port);
  info = { ...info, identity: processIdentity() };
  for (let attempt = 0; attempt < 3; attempt++) {
    const running = readDaemonInfo(paths, info.port);
    if (running && running.pid !== process.pid) throw new AlreadyRunningError(running);
    try {
      mkdirSync(paths.runtimeDir, { recursive: true, mode: 0o700 });
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      let current = info;
      return {
        update(next) {
          current = { ...current, ...next };
          writeFileAtomic(file, JSON.stringify(current), 0o600, { durable: false });
        },
        release() {
          try {
            const onDisk = JSON.parse(readFileSync(file, 'utf8')) as DaemonInfo;
            if (onDisk.pid === process.pid) rmSync(file, { force: true });
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // someone created it between our check and create: look again
    }
  }
  const running = readDaemonInfo(paths, info.port);
  if (running) throw new AlreadyRunningError(running);
  throw new Error(`Could not take the daemon lock ${file}`);
}
