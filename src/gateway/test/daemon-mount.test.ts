import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon } from '../../daemon/daemon.js';
import type { RunningDaemon } from '../../daemon/daemon.js';
import { startFakeProvider } from '../../fake-provider/server.js';
import type { FakeProvider } from '../../fake-provider/server.js';
import { tempCcoEnv } from '../../testing/temp-dirs.js';

let fake: FakeProvider;
let daemon: RunningDaemon;
let env: ReturnType<typeof tempCcoEnv>;

beforeAll(async () => {
  fake = await startFakeProvider({ port: 0 });
  env = tempCcoEnv();
  daemon = await startDaemon({ env: { ...env.env, CCO_ANTHROPIC_BASE_URL: fake.url }, port: 0 });
});
afterAll(async () => {
  await daemon?.close();
  await fake?.close();
  env?.cleanup();
});

describe('gateway mounted in the daemon', () => {
  it('serves /v1/messages (stream and not) with the client credentials passed through, and reports in /health', async () => {
    const client = new Anthropic({ baseURL: daemon.url, apiKey: 'sk-ant-daemon-test-0000000000', maxRetries: 0 });
    fake.queue({ text: 'from the daemon' });
    const msg = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]).toMatchObject({ text: 'from the daemon' });
    fake.queue({ text: 'streamed via daemon' });
    const final = await client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi again' }] }).finalMessage();
    expect(final.content[0]).toMatchObject({ text: 'streamed via daemon' });
    const health = (await (await fetch(`${daemon.url}/health`)).json()) as { checks: Record<string, { status: string }> };
    expect(health.checks.gateway?.status).toBe('ok');
    // Claude Code probes the base URL with HEAD / (served by the dashboard in the daemon).
    expect((await fetch(daemon.url, { method: 'HEAD' })).status).toBeLessThan(400);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_requests_total\{[^}]*provider="anthropic"/);
  });

  it('answers malformed bodies on /v1 in the Anthropic error shape', async () => {
    const res = await fetch(`${daemon.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('logs each upstream retry, so `curl /api/logs | grep retry` finds them (seed 000)', async () => {
    fake.queue({ fault: 'status', status: 503 }, { text: 'after a retry' });
    const client = new Anthropic({ baseURL: daemon.url, apiKey: 'sk-ant-daemon-test-0000000000', maxRetries: 0 });
    const msg = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'retry me' }] });
    expect(msg.content[0]).toMatchObject({ text: 'after a retry' });
    const text = await (await fetch(`${daemon.url}/api/logs?level=warn`)).text();
    const line = text.split('},{').find((l) => l.includes('retry'));
    expect(line).toMatch(/upstream retry 1\/\d+ to anthropic after HTTP 503/);
    expect(line).not.toContain('sk-ant-daemon-test');
  });
});
