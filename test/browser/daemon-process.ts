import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempCcoEnv } from '../../src/testing/temp-dirs.js';
import { CLI } from './build.js';

export interface DaemonProcess {
  url: string;
  port: number;
  token: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  /** SIGKILL: no graceful shutdown, sockets just die. */
  kill(): Promise<void>;
  /** Starts the daemon again on the same port with the same home (same token). */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * A real daemon: the built `cco run` (dist/cli, or `opts.cli`: the bundle users run) as a child
 * process with its own temp home, config (`daemon.toml` written here: sidecar on port 0, the web
 * terminal as asked) and runtime dir.
 */
export async function startDaemonProcess(opts: { terminal?: boolean; env?: Record<string, string>; toml?: string; cli?: string } = {}): Promise<DaemonProcess> {
  const t = tempCcoEnv();
  const env: NodeJS.ProcessEnv = { ...process.env, ...t.env, ...opts.env };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  delete env.CCO_PORT;
  mkdirSync(t.env.CCO_CONFIG_DIR as string, { recursive: true });
  writeFileSync(
    join(t.env.CCO_CONFIG_DIR as string, 'daemon.toml'),
    `[daemon]\nlog_level = "info"\n\n[sidecar]\nport = 0\n\n[dashboard]\nterminal_enabled = ${opts.terminal ? 'true' : 'false'}\n${opts.toml ?? ''}`,
  );
  const d = { port: 0, url: '', child: undefined as unknown as ChildProcess };
  const launch = async (port: number): Promise<void> => {
    const child = spawn(process.execPath, [opts.cli ?? CLI, 'run', '--port', String(port)], { env, cwd: t.root, stdio: ['ignore', 'pipe', 'pipe'] });
    d.child = child;
    let out = '';
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon did not start:\n${out}\n${err}`)), 20_000);
      child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
      child.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /Listening on (http:\/\/[^\s]+)/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          d.url = m[1];
          d.port = Number(new URL(m[1]).port);
          resolve();
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited ${code}:\n${out}\n${err}`));
      });
    });
  };
  await launch(0);
  const token = readFileSync(join(t.env.CCO_RUNTIME_DIR as string, 'access-token'), 'utf8').trim();
  const kill = async (): Promise<void> => {
    const c = d.child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  return {
    get url() {
      return d.url;
    },
    get port() {
      return d.port;
    },
    get child() {
      return d.child;
    },
    token,
    env,
    kill,
    async restart() {
      await kill();
      await launch(d.port);
    },
    async cleanup() {
      await kill();
      t.cleanup();
    },
  };
}
