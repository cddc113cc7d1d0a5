import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { improveSection } from '../config/sections/improve.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeProvider } from '../fake-provider/server.js';
import { gatewayLlm, llmProposal } from './llm.js';
import type { ProposalLlm } from './llm.js';
import type { Opportunity, RoutingConfig } from './types.js';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider({ port: 0 });
});
afterAll(async () => fake?.close());

const S = improveSection.parse({ llm_proposals: true, llm_model: 'claude-haiku-4-5' });
const CONFIG: RoutingConfig = { routes: [{ name: 'claude', pattern: '^claude-', timeout_ms: 300_000, retries: 2 }] };
const OPP: Opportunity[] = [{ route: 'claude', kind: 'timeouts', metric: 'timeout_rate', value: 0.2, threshold: 0.05, requests: 100, detail: '20 of 100 requests timed out' }];

describe('LLM proposals over the Anthropic Messages protocol', () => {
  it('asks with the opportunities and the routes, and keeps a schema-valid answer', async () => {
    fake.queue({ text: 'Here you go:\n{"changes":[{"route":"claude","field":"timeout_ms","to":420000,"reason":"p95 near the limit"}]}' });
    const llm = gatewayLlm(() => fake.url, () => ({ 'x-cco-token': 't' }));
    const changes = await llmProposal(llm, S, CONFIG, OPP);
    expect(changes).toEqual([{ route: 'claude', field: 'timeout_ms', from: 300_000, to: 420_000, reason: 'LLM: p95 near the limit' }]);
    const req = fake.requests.at(-1);
    expect(req?.path).toBe('/v1/messages');
    const body = req?.body as { model: string; system: string; messages: { content: string }[] };
    expect(body.model).toBe('claude-haiku-4-5');
    expect(body.messages[0]?.content).toContain('20 of 100 requests timed out');
  });

  it('refuses answers outside the schema, the bounds or the opportunities', async () => {
    const llm = gatewayLlm(() => fake.url, () => ({}));
    fake.queue({ text: '{"changes":[{"route":"claude","field":"timeout_ms","to":99999999,"reason":"x"}]}' });
    await expect(llmProposal(llm, S, CONFIG, OPP)).rejects.toThrow(/changes.0.to/);
    fake.queue({ text: '{"changes":[{"route":"claude","field":"base_url","to":"http://evil","reason":"x"}]}' });
    await expect(llmProposal(llm, S, CONFIG, OPP)).rejects.toThrow(/schema/);
    fake.queue({ text: '{"changes":[{"route":"other","field":"retries","to":3,"reason":"x"}]}' });
    await expect(llmProposal(llm, S, CONFIG, OPP)).rejects.toThrow('route other has no opportunity');
    fake.queue({ text: 'I would raise the timeout.' });
    await expect(llmProposal(llm, S, CONFIG, OPP)).rejects.toThrow('no JSON object');
    fake.queue({ fault: 'status', status: 529 });
    await expect(llmProposal(llm, S, CONFIG, OPP)).rejects.toThrow(/HTTP 529/);
  });

  it('keeps the key analytics records (the pattern) when the model names the route by its name', async () => {
    const byPattern: Opportunity[] = [{ ...OPP[0] as Opportunity, route: '^claude-' }];
    fake.queue({ text: '{"changes":[{"route":"claude","field":"retries","to":3,"reason":"flaky"}]}' });
    const changes = await llmProposal(gatewayLlm(() => fake.url, () => ({})), S, CONFIG, byPattern);
    expect(changes).toEqual([expect.objectContaining({ route: '^claude-', field: 'retries', from: 2, to: 3 })]);
  });
});

describe('LLM generation timeout (GENERATION_TIMEOUT_SECONDS)', () => {
  const quick = improveSection.parse({ llm_proposals: true, generation_timeout_seconds: 1 });

  it('gives up on a model that never answers, aborting its request', async () => {
    const before = fake.disconnects;
    fake.queue({ fault: 'hang' });
    const t0 = Date.now();
    await expect(llmProposal(gatewayLlm(() => fake.url, () => ({})), quick, CONFIG, OPP)).rejects.toThrow('Generation failed: Timeout after 1 seconds');
    expect(Date.now() - t0).toBeLessThan(3000);
    await expect.poll(() => fake.disconnects).toBeGreaterThan(before);
  });

  it('gives up even on a client that ignores its abort signal, and stops at once when cancelled', async () => {
    const deaf: ProposalLlm = { ask: () => new Promise<string>(() => undefined) };
    await expect(llmProposal(deaf, quick, CONFIG, OPP)).rejects.toThrow('Generation failed: Timeout after 1 seconds');
    const cancel = new AbortController();
    const asked = llmProposal(deaf, S, CONFIG, OPP, cancel.signal);
    cancel.abort();
    await expect(asked).rejects.toThrow('Generation cancelled');
  });
});
