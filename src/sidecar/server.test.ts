import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startSidecarWorld } from './test-world.js';
import type { SidecarWorld } from './test-world.js';

describe('sidecar health, status and the auth matrix (real listeners)', () => {
  let w: SidecarWorld;
  beforeAll(async () => {
    w = await startSidecarWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  it('listens on its own port, separate from the daemon', () => {
    expect(w.sidecarUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(w.sidecarUrl).port).not.toBe(new URL(w.daemonUrl).port);
  });

  it('GET /health has the seed shape', async () => {
    const r = await call('GET', `${w.sidecarUrl}/health`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'healthy', service: 'orchestration-sidecar', version: '0.0.0-test', checks: { storage: 'healthy', event_bus: 'healthy', active_agents: 0, event_queue_size: 0 } });
    expect(typeof r.body.uptime_seconds).toBe('number');
    expect((r.body.checks as { memory_usage_mb: number }).memory_usage_mb).toBeGreaterThan(5);
  });

  it('GET /status has the seed shape with measured values that move', async () => {
    const idle = await call<Record<string, Record<string, unknown>>>('GET', `${w.sidecarUrl}/status`);
    expect(idle.status).toBe(200);
    expect(Object.keys(idle.body).sort()).toEqual(['agents', 'events', 'performance', 'storage']);
    expect(idle.body.agents).toEqual({ active: 0, completed: 0, failed: 0, by_type: {} });
    expect(idle.body.storage).toEqual({ context_cache_entries: 0, results_stored: 0, total_size_mb: 0 });
    expect(idle.body.events).toEqual({ total_published: 0, active_subscriptions: 0, queue_depth: 0, subscriptions_behind: 0 });
    expect(idle.body.performance).toEqual({ avg_response_time_ms: 0, p99_response_time_ms: 0, requests_per_second: 0 });
    // monitoring itself does not count as load
    await call('GET', `${w.sidecarUrl}/health`);
    expect((await call<Record<string, unknown>>('GET', `${w.sidecarUrl}/status`)).body.performance).toEqual({ avg_response_time_ms: 0, p99_response_time_ms: 0, requests_per_second: 0 });

    const token = await w.token('python-specialist', ['issue-1']);
    for (let i = 0; i < 20; i++) await call('GET', `${w.sidecarUrl}/api/whoami`, { token });
    await call('POST', `${w.sidecarUrl}/api/events/agent_completed`, { token, body: { topic: 'implementation', data: { ok: true } } });
    const busy = await call<Record<string, Record<string, unknown>>>('GET', `${w.sidecarUrl}/status`);
    expect(busy.body.agents).toMatchObject({ active: 1, by_type: { 'python-specialist': 1 } });
    expect(busy.body.events).toMatchObject({ total_published: 1 });
    const perf = busy.body.performance as Record<string, number>;
    expect(perf.requests_per_second).toBeGreaterThan(0);
    expect(perf.avg_response_time_ms).toBeGreaterThan(0);
    expect(perf.p99_response_time_ms).toBeGreaterThanOrEqual(perf.avg_response_time_ms as number);
  });

  describe('auth matrix on /api/*', () => {
    const routes = (issue: string): [string, string, unknown?][] => [
      ['GET', `/api/context/${issue}/python-specialist`],
      ['POST', '/api/results', { agent_id: 'a1', agent_type: 'python-specialist', issue_id: issue, result: { status: 'success' } }],
      ['GET', `/api/results/${issue}`],
      ['GET', `/api/results/${issue}/python-specialist`],
      ['POST', '/api/events/x_happened', { topic: 't', issue_id: issue }],
      ['GET', `/api/events/wait/x_happened?timeout=0&filter=issue:${issue}`],
      ['GET', `/api/knowledge?q=fastapi&issue_id=${issue}`],
    ];
    /** Refused like the others; allowed, it streams until closed (so not in the 2xx half). */
    const stream = (issue: string): [string, string] => ['GET', `/api/events/stream/x_happened?filter=issue:${issue}`];

    it('401 without a token', async () => {
      // a percent-encoded path is the same route (the router decodes it): `/%61pi/` is `/api/`
      const encoded = routes('issue-1').map(([m, p, b]): [string, string, unknown?] => [m, p.replace('/api/', '/%61pi/'), b]);
      for (const [m, p, b] of [...routes('issue-1'), stream('issue-1'), ...encoded, ['GET', '/%61pi/whoami'] as [string, string]]) {
        const r = await call(m, `${w.sidecarUrl}${p}`, b === undefined ? {} : { body: b });
        expect(r.status, `${m} ${p}`).toBe(401);
        expect((r.body.error as { code: string }).code).toBe('unauthorized');
      }
    });

    it('401 for a malformed token, a bad signature and an expired token', async () => {
      const good = await w.token('python-specialist', ['issue-1']);
      const [h, p] = good.split('.');
      const badSig = `${h}.${p}.${'A'.repeat(43)}`;
      const otherKey = await new SignJWT({ agent_type: 'python-specialist', issues: ['issue-1'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('evil')
        .setIssuer('cco-daemon')
        .setAudience('cco-sidecar')
        .setExpirationTime('1h')
        .sign(new Uint8Array(32).fill(7));
      const expired = await new SignJWT({ agent_type: 'python-specialist', issues: ['issue-1'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('old')
        .setIssuer('cco-daemon')
        .setAudience('cco-sidecar')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(await keyOf(w));
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
      const cases: [string, string, string][] = [
        ['malformed', 'not-a-jwt', 'invalid_token'],
        ['bad signature', badSig, 'invalid_token'],
        ['other key', otherKey, 'invalid_token'],
        ['alg none', none, 'invalid_token'],
        ['expired', expired, 'token_expired'],
      ];
      for (const [name, tok, code] of cases) {
        for (const [m, path, b] of [...routes('issue-1'), stream('issue-1')]) {
          const r = await call(m, `${w.sidecarUrl}${path}`, { token: tok, ...(b === undefined ? {} : { body: b }) });
          expect(r.status, `${name}: ${m} ${path}`).toBe(401);
          expect((r.body.error as { code: string }).code, name).toBe(code);
        }
      }
    });

    it('403 outside the token scope, 2xx inside', async () => {
      const tok = await w.token('python-specialist', ['issue-1']);
      for (const [m, p, b] of [...routes('issue-2'), stream('issue-2')]) {
        const r = await call(m, `${w.sidecarUrl}${p}`, { token: tok, ...(b === undefined ? {} : { body: b }) });
        expect(r.status, `${m} ${p}`).toBe(403);
        expect((r.body.error as { code: string }).code).toBe('forbidden');
      }
      for (const [m, p, b] of routes('issue-1')) {
        const r = await call(m, `${w.sidecarUrl}${p}`, { token: tok, ...(b === undefined ? {} : { body: b }) });
        expect(r.status, `${m} ${p}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
      }
    });

    it('health and status need no token; browser origins and foreign hosts are refused', async () => {
      expect((await call('GET', `${w.sidecarUrl}/status`)).status).toBe(200);
      const tok = await w.token('python-specialist', '*');
      expect((await call('GET', `${w.sidecarUrl}/api/whoami`, { token: tok, headers: { origin: 'http://evil.example' } })).status).toBe(403);
    });
  });
});

async function keyOf(w: SidecarWorld): Promise<Uint8Array> {
  const { readFileSync, statSync } = await import('node:fs');
  const { agentKeyFile } = await import('./module.js');
  const file = agentKeyFile(w.paths.home);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
}

describe('sidecar failures reach the daemon log', () => {
  it('a 5xx is logged with its route (the app itself runs without a logger)', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const w = await startSidecarWorld({ logger });
    try {
      // a plain file where the issue's results folder must go: the result cannot be written
      mkdirSync(w.paths.resultsDir, { recursive: true });
      writeFileSync(join(w.paths.resultsDir, 'issue-blocked'), 'not a folder');
      const tok = await w.token('python-specialist', ['issue-blocked']);
      const r = await call<{ error: { code: string; message: string } }>('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { agent_id: 'a-1', agent_type: 'python-specialist', issue_id: 'issue-blocked', result: { status: 'success' } } });
      expect(r.status).toBe(500);
      expect(r.body.error.message).toMatch(/daemon log/);
      const failed = lines.map((l) => JSON.parse(l) as { msg: string; route?: string; level: number }).find((l) => l.msg.startsWith('request failed'));
      expect(failed).toMatchObject({ route: '/api/results', level: 50 });
    } finally {
      await w.close();
    }
  });
});
