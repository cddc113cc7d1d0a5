import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolvePaths } from '../config/paths.js';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { daemonEnv, providerKeyCheck, runChecks } from './doctor-checks.js';

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
