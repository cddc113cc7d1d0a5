import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

/**
 * The cache answers only what the provider that would answer now would have answered: not
 * another route's, not a fallback's, not an error sent with a 200.
 */
let h: Harness;
const routing = (cheapModel: string) => ({
  routes: [
    { pattern: '^cheap$', provider: 'anthropic', model: cheapModel, retries: 0 },
    { pattern: '^claude-primary$', provider: 'anthropic', retries: 0, fallbacks: ['claude-backup'] },
    { pattern: '^claude-', provider: 'anthropic', retries: 0 },
    { pattern: '^gpt-', provider: 'openai', retries: 0 },
  ],
  retry: { base_delay_ms: 10, max_delay_ms: 50 },
});
beforeAll(async () => {
  h = await startHarness({ cacheTtlSeconds: 3600, routing: routing('model-a') });
});
afterAll(async () => {
  await h?.close();
});

const HEADERS = { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
async function send(body: string | Record<string, unknown>, path = '/v1/messages'): Promise<{ status: number; cache: string | null; json: Record<string, unknown> }> {
  const r = await fetch(`${h.url}${path}`, { method: 'POST', headers: HEADERS, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, cache: r.headers.get('x-cco-cache'), json: (await r.json()) as Record<string, unknown> };
}
const lastModel = () => (h.fake.requests.at(-1)?.body as { model?: string } | undefined)?.model;

describe('what the cache may answer', () => {
  it('misses once the route sends the model elsewhere (routing reloaded)', async () => {
    const body = { model: 'cheap', max_tokens: 16, messages: [{ role: 'user', content: 'route me' }] };
    expect((await send(body)).cache).toBe('MISS');
    expect(lastModel()).toBe('model-a');
    expect((await send(body)).cache).toBe('HIT');
    writeFileSync(h.routingFile, JSON.stringify(routing('model-b')).replaceAll('{{FAKE}}', h.fake.url));
    const reload = await fetch(`${h.url}/api/gateway/routing/reload`, { method: 'POST' });
    expect(reload.status).toBe(200);
    const after = await send(body);
    expect(after.cache).toBe('MISS');
    expect(lastModel()).toBe('model-b');
    expect((await send(body)).cache).toBe('HIT');
  });

  it("does not keep a fallback's answer under the primary's key", async () => {
    const body = { model: 'claude-primary', max_tokens: 16, messages: [{ role: 'user', content: 'fall back once' }] };
    h.fake.queue({ fault: 'status', status: 503 });
    const degraded = await send(body);
    expect(degraded.status).toBe(200);
    expect(lastModel()).toBe('claude-backup');
    const recovered = await send(body);
    expect(recovered.cache).toBe('MISS');
    expect(lastModel()).toBe('claude-primary');
    expect((await send(body)).cache).toBe('HIT');
  });

  it('never caches an error sent with status 200, in either API', async () => {
    const anthropic = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'an error with 200' }] };
    h.fake.queue({ fault: 'status', status: 200, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    expect((await send(anthropic)).json.type).toBe('error');
    const again = await send(anthropic);
    expect(again.cache).toBe('MISS');
    expect(again.json.type).toBe('message');

    const openai = { model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: 'an error with 200' }] };
    h.fake.queue({ fault: 'status', status: 200, body: { error: { message: 'The server had an error', type: 'server_error' } } });
    expect((await send(openai, '/v1/chat/completions')).json.error).toBeDefined();
    const retried = await send(openai, '/v1/chat/completions');
    expect(retried.cache).toBe('MISS');
    expect(retried.json.choices).toBeDefined();
  });

  it('does not cache a request whose integer is beyond 2^53 (rounded when parsed, so two of them would share a key)', async () => {
    const raw = (seed: string) => `{"model":"gpt-4o","max_tokens":16,"seed":${seed},"messages":[{"role":"user","content":"seeded"}]}`;
    expect((await send(raw('9007199254740993'), '/v1/chat/completions')).cache).toBe('BYPASS');
    expect((await send(raw('9007199254740992'), '/v1/chat/completions')).cache).toBe('BYPASS');
    // an ordinary seed is cached as before
    expect((await send(raw('42'), '/v1/chat/completions')).cache).toBe('MISS');
    expect((await send(raw('42'), '/v1/chat/completions')).cache).toBe('HIT');
  });

  it('/api/cache/debug without `endpoint` finds an OpenAI request that would hit', async () => {
    const openai = { model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: 'debug me' }] };
    expect((await send(openai, '/v1/chat/completions')).cache).toBe('MISS');
    expect((await send(openai, '/v1/chat/completions')).cache).toBe('HIT');
    const dbg = await fetch(`${h.url}/api/cache/debug`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: openai, headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } }) });
    expect(await dbg.json()).toMatchObject({ endpoint: 'chat_completions', wouldHit: true });
  });
});
