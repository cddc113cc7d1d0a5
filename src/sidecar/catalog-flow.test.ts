import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgentCatalog } from '../agents/catalog.js';
import type { AgentCatalog } from '../agents/types.js';
import { call, startSidecarWorld } from './test-world.js';
import type { SidecarWorld } from './test-world.js';

interface WaitBody {
  events: { event_type: string; topic: string; issue_id: string | null; data: { status?: string } }[];
  timed_out: boolean;
}

/** The seed's chain, as the shipped catalog's agents run it (their prompts' commands, their topics). */
const CHAIN = ['chief-architect', 'python-specialist', 'unit-test-engineer', 'security-auditor'] as const;

describe("the seed's flow with the shipped catalog", () => {
  let catalog: AgentCatalog;
  let w: SidecarWorld;
  beforeAll(async () => {
    catalog = await loadAgentCatalog();
    w = await startSidecarWorld({ catalog });
  });
  afterAll(async () => {
    await w?.close();
  });

  it('each role waits first for what the one before it publishes', () => {
    for (let i = 1; i < CHAIN.length; i++) {
      const prev = catalog.get(CHAIN[i - 1] as string);
      const next = catalog.get(CHAIN[i] as string);
      expect(prev?.topics.publish, `${CHAIN[i - 1]} → ${CHAIN[i]}`).toContain(next?.topics.subscribe[0]);
    }
  });

  it('architect → specialist → tester → security auditor, over HTTP, with the issue as topic and issue', async () => {
    const issue = 'issue-flow';
    const tokens = await Promise.all(CHAIN.map((t) => w.token(t, [issue])));
    const u = w.sidecarUrl;
    const woke: string[] = [];
    const waiters = CHAIN.slice(1).map(async (type, i) => {
      const trigger = catalog.get(type)?.topics.subscribe[0] as string;
      const r = await call<WaitBody>('GET', `${u}/api/events/wait/${trigger}?filter=topic:${issue}&timeout=10000`, { token: tokens[i + 1] as string });
      expect(r.body.timed_out, type).toBe(false);
      expect(r.body.events[0]).toMatchObject({ topic: issue, issue_id: issue, data: { status: 'success' } });
      woke.push(type);
      const publish = catalog.get(type)?.topics.publish[0] as string;
      const p = await call('POST', `${u}/api/events/${publish}`, { token: tokens[i + 1] as string, body: { publisher: type, topic: issue, issue_id: issue, data: { status: 'success', summary: `${type} done` } } });
      expect(p.status).toBe(201);
    });
    await new Promise((r) => setTimeout(r, 100));
    const first = await call('POST', `${u}/api/events/architecture_defined`, { token: tokens[0] as string, body: { publisher: 'chief-architect', topic: issue, issue_id: issue, data: { status: 'success' } } });
    expect(first.status).toBe(201);
    await Promise.all(waiters);
    expect(woke).toEqual(['python-specialist', 'unit-test-engineer', 'security-auditor']);
  });
});
