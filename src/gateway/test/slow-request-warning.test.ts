import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../core/log-buffer.js';
import { SLOW_REQUEST_WARN_MS } from '../proxy/gateway-core.js';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

// Seed 002's "Warning Signs": a reply slower than the threshold is logged as
// `Response time exceeded 30s` (here the threshold is 200 ms, set on the running gateway).
const THRESHOLD_MS = 200;
const API_KEY = 'sk-ant-slow-request-test-0000000000';
const PROMPT = 'a prompt that must never reach the log';

let h: Harness;

const waitFor = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met in time: ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

beforeAll(async () => {
  h = await startHarness({
    cacheTtlSeconds: 0,
    routing: {
      routes: [
        { pattern: '^claude-timeout', provider: 'anthropic', retries: 0, timeout_ms: THRESHOLD_MS + 150 },
        { pattern: '^claude-', provider: 'anthropic', retries: 0 },
      ],
      retry: { base_delay_ms: 5, max_delay_ms: 20 },
    },
  });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  await waitFor(() => h.fake.activeRequests === 0 && h.gateway.core.active.count === 0, 5000);
  h.fake.reset();
  h.gateway.core.slowRequestWarnMs = THRESHOLD_MS;
});

/** POST /v1/messages as Claude Code sends it (session and agent headers); resolves once the gateway has finished the request. */
async function send(model: string, stream: boolean): Promise<{ id: string; status: number; record: () => LogRecord[] }> {
  const res = await fetch(`${h.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', 'x-claude-code-session-id': 'session-slow-1', 'x-claude-code-agent-id': 'agent-slow-1' },
    body: JSON.stringify({ model, max_tokens: 20, stream, messages: [{ role: 'user', content: PROMPT }] }),
  });
  await res.text();
  const id = res.headers.get('x-cco-request-id') ?? '';
  // the request is recorded (and its warning logged) as the gateway finishes it, just after the answer
  await waitFor(() => h.gateway.telemetry.recent(50).some((r) => r.id === id));
  return { id, status: res.status, record: () => slowWarnings(id) };
}

function slowWarnings(id: string): LogRecord[] {
  return h.logs.recent(2000, 'warn').filter((l) => l.msg.startsWith('Response time exceeded') && l.id === id);
}

describe('slow request warning (seed 002: "Response time exceeded 30s")', () => {
  it('defaults to 30 s', () => {
    expect(SLOW_REQUEST_WARN_MS).toBe(30_000);
  });

  it('logs one warning for a reply slower than the threshold, with model, route, provider, status, stream, first byte and session/agent ids', async () => {
    h.fake.queue({ text: 'late answer', firstByteDelayMs: THRESHOLD_MS + 150 });
    const r = await send('claude-sonnet-4-5', false);
    expect(r.status).toBe(200);
    const lines = r.record();
    expect(lines).toHaveLength(1);
    const line = lines[0] as LogRecord;
    expect(line).toMatchObject({ level: 'warn', module: 'gateway', model: 'claude-sonnet-4-5', route: '^claude-', provider: 'anthropic', status: 200, error: null, stream: false, session_id: 'session-slow-1', agent_id: 'agent-slow-1' });
    expect(line.latency_ms).toBeGreaterThan(THRESHOLD_MS);
    expect(line.ttfb_ms).toBeGreaterThanOrEqual(THRESHOLD_MS + 150);
    expect(line.msg).toMatch(/^Response time exceeded 0\.2s: \d+\.\ds for claude-sonnet-4-5 via anthropic, status 200, not streamed, first byte after \d+\.\ds$/);
    const text = JSON.stringify(line);
    expect(text).not.toContain(PROMPT);
    expect(text).not.toContain('late answer');
    expect(text).not.toContain(API_KEY);
  });

  it('says a slow stream was streamed, with its time to first byte and first token', async () => {
    h.fake.queue({ text: 'late stream', firstByteDelayMs: THRESHOLD_MS + 100 });
    const r = await send('claude-haiku-4-5', true);
    const lines = r.record();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ model: 'claude-haiku-4-5', provider: 'anthropic', status: 200, stream: true, session_id: 'session-slow-1', agent_id: 'agent-slow-1' });
    expect(lines[0]?.ttfb_ms).toBeGreaterThanOrEqual(THRESHOLD_MS + 100);
    expect(lines[0]?.ttft_ms).toBeGreaterThanOrEqual(THRESHOLD_MS + 100);
    expect(lines[0]?.msg).toContain(', streamed, first byte after');
  });

  it('logs a request that fails after the threshold (an upstream timeout) with its status', async () => {
    h.fake.queue({ fault: 'hang' });
    const r = await send('claude-timeout-1', false);
    expect(r.status).toBe(504);
    const lines = r.record();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ model: 'claude-timeout-1', route: '^claude-timeout', provider: 'anthropic', status: 504, ttfb_ms: null, session_id: 'session-slow-1' });
    expect(lines[0]?.msg).toMatch(/status 504, not streamed, no answer from a provider$/);
  });

  it('logs nothing for a fast request', async () => {
    h.fake.queue({ text: 'quick' });
    const r = await send('claude-sonnet-4-5', false);
    expect(r.status).toBe(200);
    expect(r.record()).toHaveLength(0);
  });

  it('logs nothing when the setting is 0 (off)', async () => {
    h.gateway.core.slowRequestWarnMs = 0;
    expect(h.gateway.core.slowRequestWarnMs).toBe(0);
    h.fake.queue({ text: 'late but unwatched', firstByteDelayMs: THRESHOLD_MS + 100 });
    const r = await send('claude-sonnet-4-5', false);
    expect(r.status).toBe(200);
    expect(r.record()).toHaveLength(0);
  });
});

describe('the final failure of a request', () => {
  it('is logged once, after the retries, naming the provider and the status the client gets', async () => {
    h.fake.queue({ fault: 'status', status: 500 });
    const r = await send('claude-sonnet-4-5', false);
    expect(r.status).toBe(500);
    const failed = h.logs.recent(2000, 'warn').filter((l) => l.msg.startsWith('upstream request failed') && l.id === r.id);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ provider: 'anthropic', status: 500 });
    expect(JSON.stringify(failed)).not.toContain(API_KEY);
  });
});
