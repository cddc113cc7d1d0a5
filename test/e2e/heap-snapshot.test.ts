import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cliWorld, ensureBuilt } from './harness.js';

beforeAll(() => ensureBuilt(), 120_000);

describe('kill -USR2 (the guides\' "generate heap dump")', () => {
  const w = cliWorld();
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    w.cleanup();
  });

  it('writes a heap snapshot beside the logs and the daemon keeps answering', async () => {
    const c = spawn(process.execPath, [CLI, 'run', '--port', '0'], { env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      c.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1] as string);
      });
      c.on('exit', (code) => reject(new Error(`daemon exited with ${code}: ${out}`)));
    });
    const logDir = join(w.env.CCO_HOME as string, 'logs');
    c.kill('SIGUSR2');
    // written once the daemon logs it (the file appears before it is complete)
    const logged = (): boolean => existsSync(logDir) && readdirSync(logDir).some((f) => f.endsWith('.log') && readFileSync(join(logDir, f), 'utf8').includes('heap snapshot written'));
    for (let i = 0; i < 600 && !logged(); i++) await new Promise((r) => setTimeout(r, 100));
    const snapshot = existsSync(logDir) ? readdirSync(logDir).find((f) => f.endsWith('.heapsnapshot')) : undefined;
    const logs = existsSync(logDir) ? readdirSync(logDir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(logDir, f), 'utf8').slice(-2000)).join('\n') : 'no log folder';
    expect(snapshot ?? `no snapshot; daemon exit ${c.exitCode} ${c.signalCode}; log:\n${logs}`).toMatch(new RegExp(`^heap-${c.pid}-.*\\.heapsnapshot$`));
    expect(statSync(join(logDir, snapshot as string)).size).toBeGreaterThan(1_000_000);
    expect(c.exitCode).toBeNull();
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 90_000);
});
