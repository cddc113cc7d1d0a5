import { afterEach, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeProvider } from '../fake-provider/server.js';
import { gatewayClient, LlmCallError } from './llm-client.js';

let fake: FakeProvider | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const req = { model: 'm', system: 's', messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 100, temperature: 0, agent: 'pipeline-analyst', taskId: 't_abcdefgh12' };

/** The error a call fails with (a call that succeeds fails the test). */
const failure = (p: Promise<unknown>): Promise<LlmCallError> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as LlmCallError,
  );

describe('gatewayClient', () => {
  it('sends an Anthropic request with attribution headers and reads text, tool input and usage', async () => {
    fake = await startFakeProvider();
    fake.queue({ text: 'hello', usage: { input_tokens: 7, output_tokens: 3 } }, { toolUse: [{ name: 'submit', input: { a: 1 } }] });
    const c = gatewayClient({ baseUrl: () => fake?.url ?? '', apiKey: 'sk-ant-test-key-000000', accessToken: 'daemon-access-token', timeoutMs: 2000 });
    const r = await c.complete(req);
    expect(r).toMatchObject({ text: 'hello', usage: { input_tokens: 7, output_tokens: 3 }, toolInput: undefined });
    expect((await c.complete(req)).toolInput).toEqual({ a: 1 });
    const sent = fake.requests[0];
    expect(sent?.path).toBe('/v1/messages');
    expect(sent?.headers['x-cco-agent-id']).toBe('pipeline-analyst');
    expect(sent?.headers['x-cco-session-id']).toBe('t_abcdefgh12');
    // team mode: the gateway asks the pipeline, like any caller beyond loopback, for the daemon's token
    expect(sent?.headers['x-cco-token']).toBe('daemon-access-token');
    expect(sent?.body).toMatchObject({ model: 'm', system: 's', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('turns errors, garbage, timeouts and aborts into LlmCallError with a reason, secrets masked', async () => {
    fake = await startFakeProvider();
    const c = gatewayClient({ baseUrl: () => fake?.url ?? '', timeoutMs: 300 });
    fake.queue({ fault: 'status', status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'busy, key sk-ant-api03-abcdefghijklmnop' } } });
    const e1 = await failure(c.complete(req));
    expect(e1).toBeInstanceOf(LlmCallError);
    expect(e1.message).toBe('the gateway answered 529 overloaded_error: busy, key [REDACTED]');
    fake.queue({ fault: 'status', status: 401, body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } } });
    expect((await failure(c.complete(req))).message).toMatch(/^the gateway answered 401 authentication_error: invalid x-api-key\. Check the provider's API key: set ANTHROPIC_API_KEY .* `cco daemon restart`$/);
    fake.queue({ fault: 'garbage', body: 'oops' });
    expect((await failure(c.complete(req))).message).toBe('the gateway answered 200 with a body that is not JSON: oops');
    fake.queue({ fault: 'garbage', body: '{"hello": 1}' });
    expect((await failure(c.complete(req))).message).toMatch(/with something that is not a message/);
    fake.queue({ fault: 'hang' });
    // the setting to raise, by its name in daemon.toml
    expect((await failure(c.complete(req))).message).toBe('the gateway did not answer within 300 ms; raise [pipeline] request_timeout_ms in daemon.toml');
    fake.queue({ fault: 'hang' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect((await failure(c.complete({ ...req, signal: ac.signal }))).message).toBe('cancelled');
    const down = gatewayClient({ baseUrl: () => 'http://127.0.0.1:1', timeoutMs: 300 });
    expect((await failure(down.complete(req))).message).toMatch(/^the gateway could not be reached/);
  });

  it('keeps the wait a busy gateway announces (breaker open, queue full, rate limit), and only then', async () => {
    fake = await startFakeProvider();
    const c = gatewayClient({ baseUrl: () => fake?.url ?? '', timeoutMs: 2000 });
    fake.queue(
      { fault: 'status', status: 503, retryAfter: 18, body: { type: 'error', error: { type: 'api_error', message: 'Circuit breaker for anthropic is open after repeated failures; retrying in 18 s' } } },
      { fault: 'status', status: 429, retryAfter: 2 },
      { fault: 'status', status: 529, retryAfter: 1 },
      { fault: 'status', status: 500, retryAfter: 5 },
      { fault: 'status', status: 503 },
    );
    const open = await failure(c.complete(req));
    expect(open.message).toMatch(/^the gateway answered 503 api_error: Circuit breaker for anthropic is open/);
    expect(open.retryAfterMs).toBe(18_000);
    expect((await failure(c.complete(req))).retryAfterMs).toBe(2000);
    expect((await failure(c.complete(req))).retryAfterMs).toBe(1000);
    expect((await failure(c.complete(req))).retryAfterMs).toBeUndefined();
    expect((await failure(c.complete(req))).retryAfterMs).toBeUndefined();
  });
});
