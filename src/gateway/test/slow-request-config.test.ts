import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonLogFile } from '../../config/paths.js';
import type { Paths } from '../../config/paths.js';
import { startDaemon } from '../../daemon/daemon.js';
import type { RunningDaemon } from '../../daemon/daemon.js';
import { startFakeProvider } from '../../fake-provider/server.js';
import type { FakeProvider } from '../../fake-provider/server.js';
import { tempCcoEnv } from '../../testing/temp-dirs.js';

// Seed 002's "Warning Signs": `[gateway] slow_request_warn_ms` in daemon.toml reaches the daemon's
// gateway, and a slower reply leaves `Response time exceeded …` in the daemon log.
let fake: FakeProvider;
let daemon: RunningDaemon | undefined;
let env: ReturnType<typeof tempCcoEnv>;
let paths: Paths;

beforeAll(async () => {
  fake = await startFakeProvider({ port: 0 });
  env = tempCcoEnv();
  const configDir = env.env.CCO_CONFIG_DIR as string;
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, 'daemon.toml'), '[gateway]\nslow_request_warn_ms = 200\n');
  daemon = await startDaemon({ env: { ...env.env, CCO_ANTHROPIC_BASE_URL: fake.url }, port: 0 });
  paths = daemon.paths;
});
afterAll(async () => {
  await daemon?.close();
  await fake?.close();
  env?.cleanup();
});

describe('[gateway] slow_request_warn_ms', () => {
  it('is read from daemon.toml and a slower reply is logged once in the daemon log', async () => {
    const d = daemon as RunningDaemon;
    expect(d.config.gateway.slow_request_warn_ms).toBe(200);
    fake.queue({ text: 'slow', firstByteDelayMs: 350 }, { text: 'fast' });
    const post = (model: string) =>
      fetch(`${d.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-daemon-slow-0000000000', 'x-claude-code-session-id': 'sess-daemon' },
        body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });
    const slow = await post('claude-haiku-4-5');
    await slow.text();
    const fast = await post('claude-haiku-4-5');
    await fast.text();
    const slowId = slow.headers.get('x-cco-request-id');
    const fastId = fast.headers.get('x-cco-request-id');
    const port = d.config.daemon.port;
    await d.close();
    daemon = undefined;
    const lines = readFileSync(daemonLogFile(paths, port), 'utf8')
      .split('\n')
      .filter((l) => l.includes('Response time exceeded'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ id: slowId, model: 'claude-haiku-4-5', provider: 'anthropic', status: 200, stream: false, session_id: 'sess-daemon' });
    expect(lines[0]?.msg).toMatch(/^Response time exceeded 0\.2s: /);
    expect(lines.some((l) => l.id === fastId)).toBe(false);
  });
});
