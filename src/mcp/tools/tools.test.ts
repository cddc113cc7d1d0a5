import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { ImproveApi } from '../../improve/api.js';
import { mcpSection } from '../../config/sections/mcp.js';
import { conflict, notFound } from '../../core/errors.js';
import type { PipelineModule } from '../../pipeline/module.js';
import { pipelineOps } from '../adapters.js';
import type { McpServices, Principal, SidecarOps } from '../deps.js';
import { createCcoMcpServer } from '../server.js';

const local: Principal = { tenant: 'local', admin: true, issues: '*', keyId: 'local' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sidecar whose wait lasts `waitMs` (like the real one, a little past the timeout asked). */
function fakeSidecar(waitMs: (timeout: number) => number, seen: Record<string, unknown>[] = []): SidecarOps {
  return {
    getContext: async () => ({}),
    storeResult: async () => ({}),
    publishEvent: async (_p, a) => (seen.push(a), { status: 'published', id: 1, cursor: 1, event_type: a.event_type }),
    waitForEvent: async (_p, a) => {
      seen.push(a);
      await sleep(waitMs(a.timeout_ms));
      return { events: [], cursor: a.after ?? 0, timed_out: true, waited_ms: waitMs(a.timeout_ms) };
    },
    status: async () => ({ agents: {} }),
  };
}

const improve = { get: async () => undefined, list: async () => [], versions: async () => [], settings: () => ({}), learningEngine: async () => ({ status: 'ok', telemetry_buffer_size: 0, routes: 0, analysis_window_hours: 24 }) } as unknown as ImproveApi;

function services(over: Partial<McpServices> = {}): McpServices {
  return {
    version: 'test',
    startedAt: Date.now(),
    parts: () => [{ name: 'mcp', health: () => ({ status: 'ok', sessions: 1 }) }],
    sidecar: fakeSidecar(() => 0),
    gateway: 'off',
    pipeline: 'off',
    agents: { list: () => [] },
    improve,
    maxWaitMs: mcpSection.parse({}).max_wait_ms,
    progressIntervalMs: 15_000,
    ...over,
  };
}

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

async function connect(svc: McpServices, principal: Principal = local): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await createCcoMcpServer(svc, principal).connect(a);
  const client = new Client({ name: 'tools-test', version: '1' });
  await client.connect(b);
  clients.push(client);
  return client;
}

const errorText = (r: Record<string, unknown>) => (r.content as { text: string }[]).map((c) => c.text).join('\n');

describe('wait_for_event bounds', () => {
  it('waits at most a few seconds under the SDK\'s 60 s request timeout and says how to wait longer', async () => {
    const max = mcpSection.parse({}).max_wait_ms;
    expect(max).toBeLessThanOrEqual(57_000);
    expect(max).toBeGreaterThanOrEqual(30_000);
    const seen: Record<string, unknown>[] = [];
    const client = await connect(services({ sidecar: fakeSidecar(() => 0, seen) }));
    await client.callTool({ name: 'wait_for_event', arguments: { event_type: 'x', timeout_ms: 60_000 } });
    expect(seen[0]).toMatchObject({ timeout_ms: max });
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'wait_for_event')?.description).toMatch(/call again with the returned cursor/);
  });

  it('progress never exceeds total, even when the wait ends a little after its timeout', async () => {
    // the sidecar answers 60 ms past the 100 ms asked; a beat every 60 ms lands at 120 ms
    const client = await connect(services({ sidecar: fakeSidecar((t) => t + 60), progressIntervalMs: 60 }));
    const progress: { progress: number; total?: number }[] = [];
    const r = await client.callTool({ name: 'wait_for_event', arguments: { event_type: 'x', timeout_ms: 100 } }, undefined, { onprogress: (p) => progress.push(p) });
    expect(r.isError).toBeFalsy();
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const p of progress) expect(p.progress).toBeLessThanOrEqual(p.total ?? 0);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
  });

  it('refuses a publisher the sidecar could never match (comma, space), as publish_event does', async () => {
    const seen: Record<string, unknown>[] = [];
    const client = await connect(services({ sidecar: fakeSidecar(() => 0, seen) }));
    for (const name of ['wait_for_event', 'publish_event']) {
      const r = await client.callTool({ name, arguments: { event_type: 'x', publisher: 'a,b:c', timeout_ms: 10 } });
      expect(r.isError, name).toBe(true);
      expect(errorText(r), name).toMatch(/publisher/);
    }
    expect(seen).toEqual([]);
    await client.callTool({ name: 'wait_for_event', arguments: { event_type: 'x', publisher: 'agent-1@team:a', timeout_ms: 10 } });
    expect(seen[0]).toMatchObject({ publisher: 'agent-1@team:a' });
  });
});

describe('improvement cycles', () => {
  it('list_improvement_cycles with an unknown cycle_id is a 404 naming it, like cancel', async () => {
    const client = await connect(services());
    const r = await client.callTool({ name: 'list_improvement_cycles', arguments: { cycle_id: 'nope' } });
    expect(r.isError).toBe(true);
    expect(errorText(r)).toMatch(/cycle_not_found \(404\): No improvement cycle nope/);
  });
});

describe('retry_task', () => {
  /** A pipeline module whose retry answers as the real one does: failed tasks rerun, queued ones 409, unknown 404. */
  function fakePipeline(calls: { id: string; by: unknown }[]): PipelineModule {
    const retry = async (id: string, by?: unknown) => {
      calls.push({ id, by });
      if (id === 'task-failed') return { id, status: 'queued', error: null, validation: null, retries: 1 };
      if (id === 'task-queued') throw conflict(`Task ${id} is queued and cannot be retried (it is still queued); only a failed or cancelled task, or one whose validation failed, can be retried`);
      throw notFound(`No task ${id}; list tasks with GET /api/tasks`);
    };
    return { retry } as unknown as PipelineModule;
  }

  it('reruns a failed task through the pipeline module and returns it; 409 and 404 reach the client as errors', async () => {
    const calls: { id: string; by: unknown }[] = [];
    const client = await connect(services({ pipeline: pipelineOps(fakePipeline(calls)) }));
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'retry_task')?.description).toMatch(/failed, was cancelled, or completed with its validation failed/);

    const r = await client.callTool({ name: 'retry_task', arguments: { task_id: 'task-failed' } });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ task: { id: 'task-failed', status: 'queued', error: null, validation: null, retries: 1 } });
    expect(calls[0]).toEqual({ id: 'task-failed', by: { userId: 'mcp:local', admin: true } });

    const busy = await client.callTool({ name: 'retry_task', arguments: { task_id: 'task-queued' } });
    expect(busy.isError).toBe(true);
    expect(errorText(busy)).toMatch(/conflict \(409\): Task task-queued is queued and cannot be retried/);
    const unknown = await client.callTool({ name: 'retry_task', arguments: { task_id: 'task-nope' } });
    expect(unknown.isError).toBe(true);
    expect(errorText(unknown)).toMatch(/not_found \(404\): No task task-nope/);
  });

  it("a non-admin key retries as its tenant (the module refuses another tenant's task); a missing task_id is refused before the pipeline", async () => {
    const calls: { id: string; by: unknown }[] = [];
    const viewer: Principal = { tenant: 'viewer', admin: false, issues: ['I-1'], keyId: 'key:1' };
    const client = await connect(services({ pipeline: pipelineOps(fakePipeline(calls)) }), viewer);
    expect((await client.callTool({ name: 'retry_task', arguments: { task_id: 'task-failed' } })).isError).toBeFalsy();
    expect(calls[0]).toEqual({ id: 'task-failed', by: { userId: 'mcp:viewer', admin: false } });
    const empty = await client.callTool({ name: 'retry_task', arguments: { task_id: '' } });
    expect(empty.isError).toBe(true);
    expect(errorText(empty)).toMatch(/task_id/);
    expect(calls).toHaveLength(1);
  });

  it('says the pipeline is unavailable when it is', async () => {
    const client = await connect(services({ pipeline: 'the pipeline is disabled' }));
    const r = await client.callTool({ name: 'retry_task', arguments: { task_id: 'task-failed' } });
    expect(r.isError).toBe(true);
    expect(errorText(r)).toMatch(/unavailable \(503\): the pipeline is unavailable: the pipeline is disabled/);
  });
});
