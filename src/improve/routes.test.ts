import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDaemonConfig } from '../config/daemon-config.js';
import { silentLogger } from '../core/logger.js';
import type { GatewayModule } from '../gateway/module.js';
import { Hub } from '../hub/hub.js';
import { installErrorHandling } from '../server/errors.js';
import type { ModuleContext } from '../server/module.js';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { createImproveModule } from './module.js';
import type { ImproveModule } from './module.js';
import { ImproveRepo } from './repo.js';
import { InMemoryTelemetry } from './synthetic.js';

let ts: TestStore | undefined;
let app: FastifyInstance | undefined;
let mod: ImproveModule | undefined;
afterEach(async () => {
  await app?.close();
  await mod?.close?.();
  await ts?.cleanup();
});

async function setup(opts: { withTelemetry: boolean; env?: Record<string, string> }) {
  ts = await openTestStore('sqlite');
  const config = defaultDaemonConfig();
  const ctx = { config, env: opts.env ?? {}, store: ts.store, logger: silentLogger(), hub: new Hub(), metrics: new Registry(), accessToken: 't', selfUrl: () => 'http://127.0.0.1:1' } as unknown as ModuleContext;
  const gateway = { name: 'gateway', gateway: undefined } as unknown as GatewayModule;
  const telemetry = new InMemoryTelemetry({ routes: [{ name: 'claude', pattern: '^claude-', timeout_ms: 300_000 }] });
  mod = await createImproveModule(ctx, { gateway, ...(opts.withTelemetry ? { source: telemetry } : {}) });
  app = Fastify();
  installErrorHandling(app);
  await mod.register?.(app);
  await mod.start?.();
  return { app, telemetry };
}

describe('/api/improvement REST', () => {
  it('triggers (202), lists, shows a cycle with its history, and validates input', async () => {
    const { app } = await setup({ withTelemetry: true });
    const bad = await app.inject({ method: 'POST', url: '/api/improvement/cycles', payload: { analysis_window_hours: -1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { field: 'body.analysis_window_hours' } });
    expect((await app.inject({ method: 'POST', url: '/api/improvement/cycles', payload: { window: 1 } })).json()).toMatchObject({ error: { code: 'invalid_request' } });

    const r = await app.inject({ method: 'POST', url: '/api/improvement/cycles', payload: { analysis_window_hours: 2, reason: 'test' } });
    expect(r.statusCode).toBe(202);
    const id = (r.json() as { cycle: { id: string } }).cycle.id;
    let cycle: { status: string; history: { kind: string }[] } | undefined;
    for (let i = 0; i < 100 && cycle?.status !== 'completed'; i++) {
      cycle = ((await app.inject({ method: 'GET', url: `/api/improvement/cycles/${id}` })).json() as { cycle: typeof cycle }).cycle;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(cycle).toMatchObject({ status: 'completed', history: [{ kind: 'triggered' }, { kind: 'analyzed' }, { kind: 'completed' }] });
    expect((await app.inject({ method: 'GET', url: '/api/improvement/cycles?status=completed' })).json()).toMatchObject({ cycles: [{ id }] });
    expect((await app.inject({ method: 'POST', url: `/api/improvement/cycles/${id}/cancel` })).statusCode).toBe(409);
    expect((await app.inject({ method: 'GET', url: '/api/improvement/cycles/cyc_zz_00000000' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/improvement/cycles/..%2f' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/api/improvement/config-versions/999' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/improvement/cycles?limit=0' })).statusCode).toBe(400);
  });

  it('answers 503 naming what is missing when there is no gateway telemetry', async () => {
    const { app } = await setup({ withTelemetry: false });
    const r = await app.inject({ method: 'POST', url: '/api/improvement/cycles', payload: {} });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ error: { code: 'improve_unavailable', message: expect.stringContaining('gateway') } });
    expect(await mod?.health?.()).toMatchObject({ status: 'degraded' });
  });

  it('shows the thresholds in force, with the seed\'s environment variables applied', async () => {
    const { app } = await setup({ withTelemetry: true, env: { MONITORING_DURATION_SECONDS: '7200' } });
    expect((await app.inject({ method: 'GET', url: '/api/improvement/settings' })).json()).toMatchObject({ settings: { monitoring_duration_seconds: 7200, rollback_degradation_threshold: 0.1 } });
  });

  it('pages the cycles with limit/offset and a total, and refuses unknown query keys', async () => {
    const { app } = await setup({ withTelemetry: false });
    const repo = new ImproveRepo(ts!.store);
    for (let i = 0; i < 3; i++) await repo.createCycle({ id: `cyc_p${i}_0000000${i}`, triggeredBy: 'test', reason: null, windowHours: 1, now: 1_000 + i });
    const page = async (qs: string) => (await app.inject({ method: 'GET', url: `/api/improvement/cycles?${qs}` })).json() as { cycles: { id: string }[]; total: number };
    const pages = [await page('limit=1&offset=0'), await page('limit=1&offset=1'), await page('limit=1&offset=2')];
    expect(pages.map((p) => p.cycles.map((c) => c.id))).toEqual([['cyc_p2_00000002'], ['cyc_p1_00000001'], ['cyc_p0_00000000']]);
    expect(pages.map((p) => p.total)).toEqual([3, 3, 3]);
    expect(await page('limit=2&offset=3')).toEqual({ cycles: [], total: 3 });
    for (const url of ['/api/improvement/cycles?after=1', '/api/improvement/config-versions?offset=1']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(400);
      expect(r.json(), url).toMatchObject({ error: { code: 'invalid_request', field: 'query', message: expect.stringMatching(/"(after|offset)"/) } });
    }
    expect((await app.inject({ method: 'GET', url: '/api/improvement/cycles?limit=99999999999999999999' })).json()).toMatchObject({ error: { field: 'query.limit', message: 'query.limit: an integer from 1 to 1000' } });
  });
});
