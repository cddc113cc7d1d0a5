import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolvePaths } from '../config/paths.js';
import { HEALTH_ANSWER_MS } from '../daemon/control.js';
import { HEALTH_CHECK_MS } from '../server/health.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { daemonEnv, providerKeyCheck, runChecks, silentDaemonCheck } from './doctor-checks.js';

const SHELL_KEY = 'sk-ant-shellonly-0123456789abcdef';

describe('cco doctor: the provider key is judged where it is used', () => {
  it('with a daemon running, its environment counts, not the shell’s', () => {
    const started = providerKeyCheck({ ANTHROPIC_API_KEY: SHELL_KEY }, { port: 8100, env: {} });
    expect(started).toMatchObject({ level: 'fail', detail: expect.stringContaining('set in this shell, but the daemon on port 8100 was started without it') as unknown });
    expect(started.fix).toContain('cco daemon restart --port 8100');
    // the reverse is fine: the daemon has it, this shell does not
    expect(providerKeyCheck({}, { port: 3000, env: { ANTHROPIC_API_KEY: '[REDACTED]' } })).toMatchObject({ level: 'ok', detail: 'ANTHROPIC_API_KEY is set in the daemon on port 3000 (value hidden)' });
    const neither = providerKeyCheck({}, { port: 3000, env: { ANTHROPIC_API_KEY: '' } });
    expect(neither).toMatchObject({ level: 'warn' });
    expect(neither.fix).toContain('then cco daemon restart');
    expect(neither.fix).not.toContain('--port');
  });

  it('without a daemon (or when its environment cannot be read), the shell’s key counts as before', () => {
    expect(providerKeyCheck({ ANTHROPIC_API_KEY: SHELL_KEY }, undefined)).toMatchObject({ level: 'ok', detail: 'ANTHROPIC_API_KEY is set in this shell (value hidden)' });
    expect(providerKeyCheck({}, undefined)).toMatchObject({ level: 'warn' });
    expect(providerKeyCheck({ ANTHROPIC_API_KEY: SHELL_KEY }, { port: 3000, env: { unreadable: 'HTTP 401' } })).toMatchObject({ level: 'ok', detail: expect.stringContaining('could not be read: HTTP 401') as unknown });
  });
});

describe('cco doctor against a real daemon started without a key', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({ env: { ANTHROPIC_API_KEY: '' } });
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads the daemon’s redacted environment, and a key exported afterwards in the shell is a problem with its fix', async () => {
    const paths = resolvePaths(t.env);
    const port = Number(new URL(t.url).port);
    vi.stubEnv('ANTHROPIC_API_KEY', SHELL_KEY);
    const checks = await runChecks(paths, port);
    const key = checks.find((c) => c.name === 'Provider key');
    expect(key).toMatchObject({ level: 'fail', detail: expect.stringContaining(`the daemon on port ${port} was started without it`) as unknown });
    expect(key?.fix).toContain(`cco daemon restart --port ${port}`);
    expect(JSON.stringify(checks)).not.toContain(SHELL_KEY);
    expect(await daemonEnv(t.url, paths)).not.toHaveProperty('unreadable');
  }, 30_000);
});

describe('cco doctor against a real daemon started with a key', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({ env: { ANTHROPIC_API_KEY: 'sk-ant-daemonkey-0123456789abcdef' } });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('is fine though this shell has none', async () => {
    const port = Number(new URL(t.url).port);
    const env = await daemonEnv(t.url, resolvePaths(t.env));
    expect(providerKeyCheck({}, { port, env })).toMatchObject({ level: 'ok', detail: `ANTHROPIC_API_KEY is set in the daemon on port ${port} (value hidden)` });
    expect(JSON.stringify(env)).not.toContain('daemonkey');
  });
});

/**
 * A process titled as `cco run` titles the daemon (`cco-daemon --port P`) listening on P, whose
 * /health answers as a daemon with Redis down does: 503 degraded, after `delayMs` (a part's check
 * waited its full HEALTH_CHECK_MS); `delayMs` null: never.
 */
async function titledDaemon(delayMs: number | null): Promise<{ child: ChildProcess; port: number }> {
  const report = JSON.stringify({ status: 'degraded', service: 'cco-daemon', pid: 0, checks: { database: { status: 'ok' }, redis: { status: 'down', error: 'Redis is unreachable: Redis timed out after 1000 ms' } } });
  const script = `
    const report = ${JSON.stringify(report)}.replace('"pid":0', '"pid":' + process.pid);
    const delay = ${JSON.stringify(delayMs)};
    const server = require('node:http').createServer((q, s) => {
      if (delay !== null) setTimeout(() => s.writeHead(503, { 'content-type': 'application/json' }).end(report), delay);
    });
    server.listen(0, '127.0.0.1', () => {
      process.title = 'cco-daemon --port ' + server.address().port;
      console.log(server.address().port);
    });
    setTimeout(() => process.exit(0), 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve));
  return { child, port: Number(line) };
}

describe('cco doctor when the daemon is slow to answer or silent (Redis down, stuck)', () => {
  const children: ChildProcess[] = [];
  const home = tempCcoEnv();
  afterAll(() => {
    for (const c of children) c.kill();
    home.cleanup();
  });

  it('a CCO daemon that did not answer is named as one, with its log and status as next steps, never as a stranger to kill', () => {
    const c = silentDaemonCheck(3750, { pid: 16778, command: 'cco-daemon --port 3750' }, 'timed out after 5000 ms: GET http://127.0.0.1:3750/health');
    expect(c).toMatchObject({ name: 'Daemon', level: 'fail' });
    expect(c?.detail).toContain(`the CCO daemon (PID 16778) runs on port 3750 but did not answer within ${HEALTH_ANSWER_MS / 1000} s`);
    expect(c?.fix).toContain('cco daemon logs --port 3750');
    expect(c?.fix).toContain('cco status --port 3750');
    expect(`${c?.detail} ${c?.fix}`).not.toMatch(/kill|not a CCO daemon/);
    expect(silentDaemonCheck(3000, { pid: 5, command: 'cco-daemon --port 3000' }, 'socket hang up')?.fix).not.toContain('--port');
    // its sidecar's port, or a stranger: the other advice (portHolderAdvice) stays
    expect(silentDaemonCheck(3751, { pid: 16778, command: 'cco-daemon --port 3750' }, 'timed out')).toBeUndefined();
    expect(silentDaemonCheck(3750, { pid: 9, command: 'python3 -m http.server 3750' }, 'timed out')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('waits for a /health that takes a part’s full check time, and reports it degraded', async () => {
    const d = await titledDaemon(HEALTH_CHECK_MS + 200);
    children.push(d.child);
    const checks = await runChecks(resolvePaths(home.env), d.port);
    const daemon = checks.find((c) => c.name === 'Daemon');
    expect(daemon).toMatchObject({ level: 'warn', detail: `running at http://127.0.0.1:${d.port} (degraded: redis down)` });
    // the commands named act on this port, not on 3000
    expect(daemon?.fix).toBe(`See which part is down: cco status --port ${d.port}; logs: cco daemon logs --port ${d.port}`);
    expect(checks.find((c) => c.name.includes('(sidecar)'))).toBeUndefined();
  }, 30_000);

  it.runIf(process.platform === 'linux')('names a silent CCO daemon holding the port as that, without warning that its sidecar port is taken', async () => {
    const d = await titledDaemon(null);
    children.push(d.child);
    const checks = await runChecks(resolvePaths(home.env), d.port);
    const daemon = checks.find((c) => c.name === 'Daemon');
    expect(daemon?.detail).toContain(`the CCO daemon (PID ${d.child.pid}) runs on port ${d.port} but did not answer within`);
    expect(JSON.stringify(daemon)).not.toMatch(/kill|not a CCO daemon/);
    expect(checks.find((c) => c.name.includes('(sidecar)'))).toBeUndefined();
  }, 30_000);
});
