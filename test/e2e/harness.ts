import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempCcoEnv } from '../../src/testing/temp-dirs.js';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
/** The shipped CLI: the bundle package.json's bin points at. */
export const CLI = join(ROOT, 'dist', 'cco', 'main.js');

/** dist/ is built by test/global-setup.ts before any test file runs. */
export function ensureBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temporary CCO world (home, config, tmp, runtime dirs) and helpers to run the built CLI in it. */
export function cliWorld(extraEnv: Record<string, string> = {}) {
  const t = tempCcoEnv();
  const env: NodeJS.ProcessEnv = { ...process.env, ...t.env, CCO_LOG_LEVEL: 'info', ...extraEnv };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.CCO_PORT;

  const run = (args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...opts.env }, cwd: opts.cwd ?? t.root, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(opts.input ?? '');
    });

  /** Pids of daemons recorded in this world's runtime dir. */
  const daemons = (): { pid: number; port: number }[] => {
    const dir = t.env.CCO_RUNTIME_DIR as string;
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => /^daemon-\d+\.json$/.test(f))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { pid: number; port: number });
  };

  const cleanup = (): void => {
    for (const d of daemons()) {
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    t.cleanup();
  };

  return { ...t, env, run, daemons, cleanup };
}

/** The port printed by `cco daemon start --port 0`. */
export function portFrom(output: string): number {
  const m = /Port: (\d+)/.exec(output) ?? /Listening on http:\/\/[^:]+:(\d+)/.exec(output);
  if (!m) throw new Error(`no port in output:\n${output}`);
  return Number(m[1]);
}

/** A daemon run in the foreground (`cco run --port 0`) and the addresses it printed. */
export interface DaemonProcess {
  child: ChildProcess;
  daemonUrl: string;
  sidecarUrl: string;
}

/**
 * Starts `cco run --port 0` of the built CLI in `cwd` with `env`, and resolves once it has printed
 * its daemon and sidecar addresses; rejects if it exits first or takes over 20 s. The caller
 * stops it (it is also in `children`, for an afterAll that kills what is left).
 */
export function startDaemonProcess(env: NodeJS.ProcessEnv, cwd: string, children: ChildProcess[] = []): Promise<DaemonProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--port', '0'], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${out}\n${err}`)), 20_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const daemon = /Listening on (http:\/\/\S+)/.exec(out)?.[1];
      const sidecar = /Sidecar:\s+(http:\/\/\S+)/.exec(out)?.[1];
      if (daemon && sidecar) {
        clearTimeout(timer);
        resolve({ child, daemonUrl: daemon, sidecarUrl: sidecar });
      }
    });
    child.on('exit', (code) => reject(new Error(`daemon exited with ${code}:\n${out}\n${err}`)));
  });
}
