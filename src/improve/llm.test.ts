import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { improveSection } from '../config/sections/improve.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeProvider } from '../fake-provider/server.js';
import { gatewayLlm, llmProposal } from './llm.js';
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
});
