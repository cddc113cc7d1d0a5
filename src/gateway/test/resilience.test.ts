import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
const waitFor = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met in time: ${cond.toString()} fake active=${h.fake.activeRequests} disc=${h.fake.disconnects} gw active=${h.gateway.core.active.count}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

beforeAll(async () => {
  h = await startHarness({
    cacheTtlSeconds: 0,
    routing: {
      providers: { anthropic: { format: 'anthropic', base_url: 'https://api.anthropic.com', max_concurrency: 2 }, nowhere: { format: 'anthropic', base_url: 'http://127.0.0.1:1' } },
      routes: [
        { pattern: '^claude-nowhere', provider: 'nowhere', retries: 0 },
        { pattern: '^claude-opus', provider: 'anthropic', retries: 1, fallbacks: ['claude-haiku-4-5'] },
        { pattern: '^claude-slow', provider: 'anthropic', retries: 0, timeout_ms: 200 },
        { pattern: '^claude-guarded', provider: 'anthropic', retries: 0, fallbacks: ['gpt-4o-mini'] },
        { pattern: '^gpt-', provider: 'openai', retries: 0 },
        { pattern: '^claude-', provider: 'anthropic', retries: 2 },
      ],
      retry: { base_delay_ms: 5, max_delay_ms: 20, max_retry_after_ms: 5000 },
      breaker: { failure_threshold: 100, open_ms: 300 },
    },
  });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  // A previous test's abandoned upstream call (timeout, abort) must have ended first.
  await waitFor(() => h.fake.activeRequests === 0 && h.gateway.core.active.count === 0, 5000);
  h.fake.reset();
  h.gateway.core.providers.resetBreakers();
});

const client = () => new Anthropic({ baseURL: h.url, apiKey: 'sk-ant-resilience-000000000000', maxRetries: 0 });
const ask = (model: string, extra: Record<string, unknown> = {}) => client().messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra });
const raw = (model: string, stream = false, signal?: AbortSignal) =>
  fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify({ model, max_tokens: 10, stream, messages: [{ role: 'user', content: 'hi' }] }), ...(signal ? { signal } : {}) });

/** A streamed request whose client leaves once the first text delta arrived. */
async function leaveAfterFirstDelta(): Promise<void> {
  const ac = new AbortController();
  const res = await raw('claude-sonnet-4-5', true, ac.signal);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let seen = '';
  while (!seen.includes('content_block_delta')) seen += new TextDecoder().decode((await reader.read()).value);
  ac.abort();
}

describe('retries and fallbacks', () => {
  it('honours retry-after on 429 and then succeeds', async () => {
    h.fake.queue({ fault: 'status', status: 429, retryAfter: 1 }, { text: 'after the wait' });
    const t0 = Date.now();
    const msg = await ask('claude-sonnet-4-5');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(msg.content[0]).toMatchObject({ text: 'after the wait' });
    expect(h.fake.requests).toHaveLength(2);
  });

  it('retries 529 and 500, then falls back to the next model', async () => {
    h.fake.queue({ fault: 'status', status: 529 }, { fault: 'status', status: 500 }, { text: 'fallback answered' });
    const msg = await ask('claude-opus-4-1');
    expect(msg.content[0]).toMatchObject({ text: 'fallback answered' });
    expect(h.fake.requests.map((r) => (r.body as { model: string }).model)).toEqual(['claude-opus-4-1', 'claude-opus-4-1', 'claude-haiku-4-5']);
    await h.gateway.writer.flush();
    const row = await h.store.db.selectFrom('gateway_requests').selectAll().orderBy('id', 'desc').executeTakeFirst();
    expect(row).toMatchObject({ model: 'claude-opus-4-1', upstream_model: 'claude-haiku-4-5', fallback_from: 'claude-opus-4-1', retries: 1, status: 200 });
  });

  it('a fallback gets the body as the client sent it, but for its model (no number rounded, no key merged)', async () => {
    h.fake.queue({ fault: 'status', status: 529 }, { fault: 'status', status: 529 }, { text: 'fallback answered' });
    const sent = '{"model":"claude-opus-4-1","max_tokens":8,"messages":[{"role":"user","content":"x"}],"span":12345678901234567890,"f":1.10}';
    const before = h.fake.requests.length;
    const r = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }, body: sent });
    expect(r.status).toBe(200);
    await r.text();
    const seen = h.fake.requests.slice(before).map((q) => q.raw);
    expect(seen).toEqual([sent, sent, sent.replace('claude-opus-4-1', 'claude-haiku-4-5')]);
  });

  it('an unreachable provider is a 502 that says "connection refused", and the log line keeps the cause', async () => {
    const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify({ model: 'claude-nowhere', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }) });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/Can't reach nowhere at http:\/\/127\.0\.0\.1:1: connection refused \(ECONNREFUSED\)/);
    // one `msg` per line (a second one, the cause, was lost to every JSON reader)
    const line = h.logs.recent(200, 'warn').find((l) => l.msg === 'upstream attempt failed');
    expect(line).toMatchObject({ code: 'upstream_unreachable', error: expect.stringContaining('connection refused') });
  });

  it('a request that finally fails gets the upstream status in the Anthropic error shape', async () => {
    h.fake.queue({ fault: 'status', status: 529 }, { fault: 'status', status: 529 }, { fault: 'status', status: 529 });
    const res = await raw('claude-sonnet-4-5');
    expect(res.status).toBe(529);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(h.fake.requests).toHaveLength(3);
    h.fake.queue({ fault: 'status', status: 529 }, { fault: 'status', status: 529 }, { fault: 'status', status: 529 });
    const err = await ask('claude-sonnet-4-5').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures, refuses without calling upstream, half-opens and closes on a good probe', async () => {
    h.gateway.routing.apply({ ...h.gateway.routing.config, breaker: { failure_threshold: 3, open_ms: 300 } });
    try {
      h.fake.queue({ fault: 'status', status: 500 }, { fault: 'status', status: 500 }, { fault: 'status', status: 500 });
      const first = await raw('claude-sonnet-4-5');
      expect(first.status).toBe(500);
      await first.text();
      expect(h.gateway.core.providers.breakers().anthropic?.state).toBe('open');
      const refused = await raw('claude-sonnet-4-5');
      expect(refused.status).toBe(503);
      // when to come back, so that an SDK does not spend its retries inside the open window
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/Circuit breaker for anthropic is open/);
      expect(h.fake.requests).toHaveLength(3);
      const health = await h.gateway.health();
      expect(health.openCircuits).toEqual(['anthropic']);
      expect(await (await fetch(`${h.url}/metrics`)).text()).toMatch(/gateway_circuit_breaker_state\{provider="anthropic"\} 2/);
      await new Promise((r) => setTimeout(r, 320));
      expect(h.gateway.core.providers.breakers().anthropic?.state).toBe('half_open');
      const probe = await raw('claude-sonnet-4-5');
      expect(probe.status).toBe(200);
      await probe.text();
      expect(h.gateway.core.providers.breakers().anthropic?.state).toBe('closed');
    } finally {
      h.gateway.routing.apply({ ...h.gateway.routing.config, breaker: { failure_threshold: 100, open_ms: 300 } });
    }
  });

  it('sends a request whose provider is open to its fallback, and logs it as the guides word it', async () => {
    h.gateway.routing.apply({ ...h.gateway.routing.config, breaker: { failure_threshold: 1, open_ms: 60_000 } });
    try {
      h.fake.queue({ fault: 'status', status: 503 });
      await (await raw('claude-sonnet-4-5')).text();
      expect(h.gateway.core.providers.breakers().anthropic?.state).toBe('open');
      const r = await raw('claude-guarded-1');
      expect(r.status).toBe(200);
      expect(r.headers.get('x-cco-provider')).toBe('openai');
      await r.text();
      const line = h.logs.recent(100, 'warn').find((l) => l.msg === 'Circuit breaker open, using fallback');
      expect(line).toMatchObject({ provider: 'anthropic', model: 'claude-guarded-1', fallback: 'gpt-4o-mini' });
    } finally {
      h.gateway.routing.apply({ ...h.gateway.routing.config, breaker: { failure_threshold: 100, open_ms: 300 } });
    }
  });

  it('is reset through the API', async () => {
    h.gateway.routing.apply({ ...h.gateway.routing.config, breaker: { failure_threshold: 1, open_ms: 60_000 } });
    try {
      h.fake.queue({ fault: 'status', status: 503 }, { fault: 'status', status: 503 }, { fault: 'status', status: 503 });
      await (await raw('claude-sonnet-4-5')).text();
      expect(h.gateway.core.providers.breakers().anthropic?.state).toBe('open');
      const r = await fetch(`${h.url}/api/gateway/breakers/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"provider":"anthropic"}' });
      expect(((await r.json()) as { reset: string[] }).reset).toEqual(['anthropic']);
      expect(h.gateway.core.providers.breakers().anthropic?.state).toBe('closed');
    } finally {
      h.gateway.routing.apply({ ...h.gateway.routing.config, breaker: { failure_threshold: 100, open_ms: 300 } });
    }
  });
});

describe('streams, timeouts and aborts', () => {
  /** What the Anthropic SDK throws for a streamed answer (the upstream's fault is queued first). */
  const streamFailure = (): Promise<unknown> =>
    client()
      .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage()
      .catch((e: unknown) => e);

  it('a mid-stream cut reaches the SDK as a stream error, not a truncated success', async () => {
    h.fake.queue({ fault: 'cut', afterEvents: 4 });
    const err = await streamFailure();
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toMatch(/Stream interrupted/);
    await h.gateway.writer.flush();
    const row = await h.store.db.selectFrom('gateway_requests').selectAll().orderBy('id', 'desc').executeTakeFirst();
    expect(row).toMatchObject({ status: 502, error_type: 'stream_incomplete' });
  });

  it('a compressed stream (a proxy in between) cut mid-way reaches the SDK as a stream error; the gateway lives on', async () => {
    h.fake.queue({ fault: 'cut', afterEvents: 4, encoding: 'gzip' });
    const err = await streamFailure();
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toMatch(/Stream interrupted/);
    await h.gateway.writer.flush();
    const row = await h.store.db.selectFrom('gateway_requests').selectAll().orderBy('id', 'desc').executeTakeFirst();
    expect(row).toMatchObject({ status: 502 });
    // before: the decoder's source error had no listener, and the process died with it
    h.fake.queue({ text: 'still here', encoding: 'gzip' });
    const ok = await client().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'again' }] }).finalMessage();
    expect(ok.content[0]).toMatchObject({ text: 'still here' });
  });

  it('a client that leaves a compressed stream part-way: the upstream is aborted and the gateway lives on', async () => {
    h.fake.queue({ text: 'g'.repeat(400), chunkSize: 4, chunkDelayMs: 20, encoding: 'gzip' });
    const before = h.fake.disconnects;
    await leaveAfterFirstDelta();
    await waitFor(() => h.fake.disconnects === before + 1);
    await waitFor(() => h.gateway.core.active.count === 0);
    h.fake.queue({ text: 'after the leave' });
    const ok = await client().messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'next' }] });
    expect(ok.content[0]).toMatchObject({ text: 'after the leave' });
  });

  it('a stream cut in the middle of an event reaches the SDK as the gateway\'s error, not as broken JSON', async () => {
    const start = 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n';
    const block = 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n';
    h.fake.queue({ fault: 'garbage', body: `${start}${block}event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_del` });
    const err = await streamFailure();
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toMatch(/Stream interrupted/);
  });

  it('a slow upstream hits the route timeout (504 timeout_error)', async () => {
    // The upstream would answer after 3 s; the route's timeout must answer well before that. The
    // bound leaves room for a loaded CI machine (a 600 ms bound failed at load 4.7).
    h.fake.queue({ text: 'late', firstByteDelayMs: 3000 });
    const t0 = Date.now();
    const res = await raw('claude-slow-1');
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'timeout_error' } });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a client that disconnects aborts the upstream request (before headers and mid-stream)', async () => {
    h.fake.queue({ fault: 'hang' });
    const ac = new AbortController();
    const p = raw('claude-sonnet-4-5', false, ac.signal).catch((e: unknown) => e);
    await waitFor(() => h.fake.activeRequests === 1);
    const before = h.fake.disconnects;
    ac.abort();
    await p;
    await waitFor(() => h.fake.disconnects === before + 1);

    h.fake.queue({ text: 'y'.repeat(400), chunkSize: 4, chunkDelayMs: 20 });
    const ac2 = new AbortController();
    const res = await raw('claude-sonnet-4-5', true, ac2.signal);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    ac2.abort();
    await waitFor(() => h.fake.disconnects === before + 2);
    await waitFor(() => h.gateway.core.active.count === 0);
  });

  it('a stream its client leaves part-way is recorded with the usage the provider had reported (billed all the same)', async () => {
    // sonnet: $3 input, $0.30 cache read per million; the first event reports input and cache tokens
    h.fake.queue({ text: 'z'.repeat(400), chunkSize: 4, chunkDelayMs: 20, usage: { input_tokens: 5000, cache_read_input_tokens: 10000, output_tokens: 100 } });
    await leaveAfterFirstDelta();
    await waitFor(() => h.gateway.core.active.count === 0);
    await h.gateway.writer.flush();
    const row = await h.store.db.selectFrom('gateway_requests').selectAll().where('error_type', '=', 'client_closed').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 499, input_tokens: 5000, cache_read_tokens: 10000 });
    expect(row.cost_total).toBeGreaterThanOrEqual((5000 * 3 + 10000 * 0.3) / 1e6);
    expect(row.ttft_ms).not.toBeNull();
  });

  it('holds a stream back while its client does not read: whole when it reads again, upstream aborted when it leaves', async () => {
    // far more than the sockets' buffers on both sides hold, so the relay has to wait for a drain
    const big = 'y'.repeat(32 * 1024 * 1024);
    const open = () =>
      new Promise<{ res: IncomingMessage; destroy(): void }>((resolve, reject) => {
        const req = httpRequest(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' } }, (res) => resolve({ res, destroy: () => req.destroy() }));
        req.on('error', reject);
        req.end(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
      });
    const before = h.fake.disconnects;

    h.fake.queue({ text: big, chunkSize: 64 * 1024 });
    const slow = await open();
    slow.res.pause();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.fake.activeRequests).toBe(1); // held back, not finished
    let bytes = 0;
    let tail = '';
    slow.res.on('data', (c: Buffer) => {
      bytes += c.length;
      tail = (tail + c.toString('latin1')).slice(-300);
    });
    slow.res.resume();
    await once(slow.res, 'end');
    expect(bytes).toBeGreaterThan(big.length);
    expect(tail).toContain('message_stop');
    expect(h.fake.disconnects).toBe(before);

    // still writing when the client leaves (a fake that has handed its whole answer to its socket
    // counts a closed connection as finished, not as a disconnect)
    h.fake.queue({ text: big, chunkSize: 256 * 1024, chunkDelayMs: 10 });
    const gone = await open();
    gone.res.pause();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.fake.activeRequests).toBe(1);
    expect(h.gateway.core.active.list()[0]?.bytes).toBeLessThan(big.length / 2); // held back
    gone.destroy();
    await waitFor(() => h.fake.disconnects === before + 1);
    await waitFor(() => h.gateway.core.active.count === 0);
  });

  it('an answer whose body breaks off is a 502 in the client\'s shape, not a 500', async () => {
    // the route's two retries broke off too
    h.fake.queue({ fault: 'cut', afterEvents: 0 }, { fault: 'cut', afterEvents: 0 }, { fault: 'cut', afterEvents: 0 });
    const res = await raw('claude-sonnet-4-5');
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('broke off') } });
    expect(h.fake.requests).toHaveLength(3);
  });

  it('an answer that broke off before anything reached the client is sent again, as the route\'s retries allow', async () => {
    h.fake.queue({ fault: 'cut', afterEvents: 0 });
    const res = await raw('claude-sonnet-4-5');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ type: 'message' });
    expect(h.fake.requests).toHaveLength(2);
    await h.gateway.writer.flush();
    const row = await h.store.db.selectFrom('gateway_requests').selectAll().orderBy('id', 'desc').executeTakeFirst();
    expect(row).toMatchObject({ status: 200, retries: 1 });
    // a route without retries answers the cut at once
    h.fake.queue({ fault: 'cut', afterEvents: 0 });
    expect((await raw('claude-slow-cut')).status).toBe(502);
  });

  it('an error page that is not the provider\'s JSON reaches the client in its own API shape, with the status', async () => {
    h.fake.queue({ fault: 'garbage', status: 502, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' });
    const res = await raw('claude-slow-html'); // a route without retries or fallbacks
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'api_error', message: 'upstream answered 502: 502 Bad Gateway' } });
  });

  it('a stream the operator kills ends with an error event, not a clean end', async () => {
    h.fake.queue({ text: 'a long answer '.repeat(20), chunkDelayMs: 30 });
    const res = await raw('claude-sonnet-4-5', true);
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    const k = (await (await fetch(`${h.url}/api/requests/kill?older_than=0`, { method: 'POST' })).json()) as { killed: number };
    expect(k.killed).toBe(1);
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text, text.slice(-300)).not.toContain('message_stop');
    expect(text, text.slice(-300)).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"\w+","message":"[^"]*killed/);
  });

  it('lists active requests and kills old ones on request', async () => {
    h.fake.queue({ fault: 'hang' });
    const p = raw('claude-sonnet-4-5');
    await waitFor(() => h.gateway.core.active.count === 1);
    const act = (await (await fetch(`${h.url}/api/debug/active-requests`)).json()) as { count: number; requests: { model: string; state: string }[] };
    expect(act.requests[0]).toMatchObject({ model: 'claude-sonnet-4-5', state: 'upstream' });
    const k = (await (await fetch(`${h.url}/api/requests/kill?older_than=0`, { method: 'POST' })).json()) as { killed: number };
    expect(k.killed).toBe(1);
    const res = await p;
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ type: 'error', error: { message: expect.stringContaining('killed') } });
    // an empty or odd value is refused, never read as 0 (which kills everything in flight)
    for (const v of ['soon', '', '%20', '1e3', '0x10', '-5']) {
      const bad = await fetch(`${h.url}/api/requests/kill?older_than=${v}`, { method: 'POST' });
      expect(bad.status, v).toBe(400);
      expect(((await bad.json()) as { error: { field: string } }).error.field, v).toBe('query.older_than');
    }
  });

  it('queues requests beyond the provider concurrency limit and reports the depth', async () => {
    h.fake.setResponder(() => ({ text: 'slow', firstByteDelayMs: 150 }));
    try {
      const all = Promise.all([0, 1, 2, 3].map(() => raw('claude-sonnet-4-5').then(async (r) => [r.status, await r.text()] as const)));
      await waitFor(() => (h.gateway.core.providers.queues().anthropic?.depth ?? 0) >= 1);
      expect(await (await fetch(`${h.url}/metrics`)).text()).toMatch(/gateway_queue_depth\{provider="anthropic"\} [12]/);
      expect(h.fake.activeRequests).toBeLessThanOrEqual(2);
      const done = await all;
      expect(done.map((d) => d[0])).toEqual([200, 200, 200, 200]);
    } finally {
      h.fake.setResponder(() => ({ text: 'ok' }));
    }
  });
});
