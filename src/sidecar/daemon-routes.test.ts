import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { call, startSidecarWorld } from './test-world.js';
import type { SidecarWorld } from './test-world.js';

interface Spawned {
  agent_id: string;
  agent_type: string;
  issues: string[] | '*';
  token: string;
  expires_at: number;
  sidecar_url: string;
  proxy_url: string;
  env: Record<string, string>;
}

describe('daemon routes: agent spawn and the /api/orchestration proxy (real listeners)', () => {
  let w: SidecarWorld;
  const admin = (): Record<string, string> => ({ 'x-cco-token': w.ctx.accessToken });
  beforeAll(async () => {
    w = await startSidecarWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  it('POST /api/agents/spawn mints a scoped token that the sidecar accepts', async () => {
    const r = await call<Spawned>('POST', `${w.daemonUrl}/api/agents/spawn`, { headers: admin(), body: { agent_type: 'python-specialist', issue_id: 'issue-7', task: 'Implement refund endpoint' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ agent_type: 'python-specialist', issues: ['issue-7'], sidecar_url: w.sidecarUrl, proxy_url: `${w.daemonUrl}/api/orchestration` });
    expect(r.body.env.ORCHESTRATOR_AGENT_TOKEN).toBe(r.body.token);
    expect(r.body.expires_at).toBeGreaterThan(Date.now() + 3000 * 1000);
    const me = await call('GET', `${w.sidecarUrl}/api/whoami`, { token: r.body.token });
    // the same instant in the same format (epoch ms) wherever the agent is shown
    expect(me.body).toMatchObject({ agent_id: r.body.agent_id, agent_type: 'python-specialist', issues: ['issue-7'], expires_at: r.body.expires_at });
    const listed = await call<{ agents: { agent_id: string; expires_at: unknown }[] }>('GET', `${w.daemonUrl}/api/sidecar/agents?hours=1`, { headers: admin() });
    expect(listed.body.agents.find((a) => a.agent_id === r.body.agent_id)?.expires_at).toBe(r.body.expires_at);
    expect((await call('GET', `${w.sidecarUrl}/api/results/issue-8`, { token: r.body.token })).status).toBe(403);
    const status = await call<{ agents: { active: number; by_type: Record<string, number> } }>('GET', `${w.sidecarUrl}/status`);
    expect(status.body.agents.by_type['python-specialist']).toBeGreaterThanOrEqual(1);
    expect(w.hub.recent({ types: ['agent_activity'] }).some((m) => (m.data as { action: string }).action === 'spawned')).toBe(true);
  });

  it('GET /api/sidecar/agents lists the recent agents with their results (what the dashboard shows after a restart)', async () => {
    const spawn = async (issue: string) => (await call<Spawned>('POST', `${w.daemonUrl}/api/agents/spawn`, { headers: admin(), body: { agent_type: 'python-specialist', issue_id: issue, task: `work on ${issue}` } })).body;
    const a = await spawn('issue-41');
    const b = await spawn('issue-42');
    const store = (who: Spawned, issue: string, status: string) => call('POST', `${w.sidecarUrl}/api/results`, { token: who.token, body: { agent_id: who.agent_id, agent_type: 'python-specialist', issue_id: issue, result: { status, summary: 's' } } });
    expect((await store(a, 'issue-41', 'success')).status).toBe(201);
    expect((await store(b, 'issue-42', 'failed')).status).toBe(201);
    const r = await call<{ agents: { agent_id: string; status: string; completed: number; failed: number; task: string }[] }>('GET', `${w.daemonUrl}/api/sidecar/agents?hours=1`, { headers: admin() });
    expect(r.status).toBe(200);
    expect(r.body.agents.find((x) => x.agent_id === a.agent_id)).toMatchObject({ status: 'completed', completed: 1, failed: 0, task: 'work on issue-41' });
    expect(r.body.agents.find((x) => x.agent_id === b.agent_id)).toMatchObject({ status: 'failed', completed: 0, failed: 1 });
    expect((await call('GET', `${w.daemonUrl}/api/sidecar/agents?hours=-1`, { headers: admin() })).status).toBe(400);
  });

  it('spawn needs the access token or an agent token, and never widens scope', async () => {
    const anon = await call<{ error: { code: string } }>('POST', `${w.daemonUrl}/api/agents/spawn`, { body: { agent_type: 'python-specialist', issue_id: 'i-1' } });
    expect(anon.status).toBe(401);
    const orchestrator = await w.token('orchestrator', '*');
    const byOrch = await call<Spawned>('POST', `${w.daemonUrl}/api/agents/spawn`, { token: orchestrator, body: { agent_type: 'test-engineer', issues: ['i-1', 'i-2'] } });
    expect(byOrch.status).toBe(201);
    const scoped = await w.token('chief-architect', ['i-1']);
    const ok = await call<Spawned>('POST', `${w.daemonUrl}/api/agents/spawn`, { token: scoped, body: { agent_type: 'chief-architect', issue_id: 'i-1', ttl_seconds: 7 * 24 * 3600 } });
    expect(ok.status).toBe(201);
    // never outliving the token that minted it
    const scopedExp = (JSON.parse(Buffer.from(scoped.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp;
    expect(ok.body.expires_at / 1000).toBeLessThanOrEqual(scopedExp);
    const wider = await call('POST', `${w.daemonUrl}/api/agents/spawn`, { token: scoped, body: { agent_type: 'chief-architect', issues: ['i-1', 'i-9'] } });
    expect(wider.status).toBe(403);
    const all = await call('POST', `${w.daemonUrl}/api/agents/spawn`, { token: scoped, body: { agent_type: 'chief-architect', issues: '*' } });
    expect(all.status).toBe(403);
    // another role is the orchestrator's to start: its token could store that role's results
    const otherRole = await call<{ error: { field: string } }>('POST', `${w.daemonUrl}/api/agents/spawn`, { token: scoped, body: { agent_type: 'security-auditor', issue_id: 'i-1' } });
    expect(otherRole.status).toBe(403);
    expect(otherRole.body.error.field).toBe('body.agent_type');
    // nor may it take over another agent's id
    const takeover = await call<{ error: { field: string } }>('POST', `${w.daemonUrl}/api/agents/spawn`, { token: scoped, body: { agent_type: 'chief-architect', issue_id: 'i-1', agent_id: byOrch.body.agent_id } });
    expect(takeover.status).toBe(403);
    expect(takeover.body.error.field).toBe('body.agent_id');
    const unknown = await call<{ error: { code: string } }>('POST', `${w.daemonUrl}/api/agents/spawn`, { headers: admin(), body: { agent_type: 'quantum-wizard', issue_id: 'i-1' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_agent_type');
    const noIssue = await call<{ error: { field: string } }>('POST', `${w.daemonUrl}/api/agents/spawn`, { headers: admin(), body: { agent_type: 'test-engineer' } });
    expect(noIssue.status).toBe(400);
    expect(noIssue.body.error.field).toBe('body.issue_id');
    const traversal = await call('POST', `${w.daemonUrl}/api/agents/spawn`, { headers: admin(), body: { agent_type: 'test-engineer', issue_id: '../../x' } });
    expect(traversal.status).toBe(400);
    // a NUL in the task (PostgreSQL text cannot hold it: it was a 500 there)
    const nul = await call<{ error: { field: string } }>('POST', `${w.daemonUrl}/api/agents/spawn`, { headers: admin(), body: { agent_type: 'test-engineer', issue_id: 'i-1', task: 'a\u0000b' } });
    expect(nul.status).toBe(400);
    expect(nul.body.error.field).toBe('body.task');
  });

  it('proxies /api/orchestration/* to the sidecar with the Authorization header', async () => {
    const p = `${w.daemonUrl}/api/orchestration`;
    const h = await call('GET', `${p}/health`);
    expect(h.body).toMatchObject({ service: 'orchestration-sidecar', status: 'healthy' });
    expect((await call('GET', `${p}/status`)).body).toHaveProperty('performance');
    expect((await call('GET', `${p}/whoami`)).status).toBe(401);
    // a scoped token's result is stored as the token's agent (routes-results.ts)
    const tok = await w.token('python-specialist', ['issue-p'], { agentId: 'ps-p' });
    const stored = await call('POST', `${p}/results`, { token: tok, body: { agent_id: 'ps-p', agent_type: 'python-specialist', issue_id: 'issue-p', result: { status: 'success' } } });
    expect(stored.status).toBe(201);
    expect((await call('GET', `${p}/results/issue-p/python-specialist`, { token: tok })).body).toMatchObject({ agent_id: 'ps-p' });
    // the path goes on as written: an encoded "/" or "?" is no new segment or query through the proxy either
    for (const odd of ['/results/issue-p%2Fpython-specialist', '/events/wait/never%3Ftimeout=1']) {
      const direct = await call('GET', `${w.sidecarUrl}/api${odd}`, { token: tok });
      const proxied = await call('GET', `${p}${odd}`, { token: tok });
      expect(proxied.status, odd).toBe(direct.status);
      expect(proxied.status, odd).toBeGreaterThanOrEqual(400);
    }
    expect((await call('POST', `${p}/results`, { token: tok, rawBody: '{bad' })).status).toBe(400);
    expect((await call('GET', `${p}/results/issue-q`, { token: tok })).status).toBe(403);
    // a long-poll through the proxy wakes on a publish
    const waiting = call<{ events: { data: unknown }[] }>('GET', `${p}/events/wait/proxied?timeout=5000`, { token: tok });
    await new Promise((r) => setTimeout(r, 100));
    await call('POST', `${p}/events/proxied`, { token: tok, body: { topic: 'x', data: { via: 'proxy' } } });
    expect((await waiting).body.events[0]?.data).toEqual({ via: 'proxy' });
  });

  it("forwards the sidecar's own agent paths from the daemon unchanged (ORCHESTRATOR_API_URL is the daemon)", async () => {
    const d = w.daemonUrl;
    const tok = await w.token('python-specialist', ['issue-123'], { agentId: 'ps-plain' });
    // the seed's context fetch, at the daemon's address
    const ctx = await call<{ issue_id: string }>('GET', `${d}/api/context/issue-123/python-specialist`, { token: tok });
    expect(ctx.status).toBe(200);
    expect(ctx.body).toMatchObject({ issue_id: 'issue-123' });
    expect(ctx.headers.get('x-cco-context-cache')).toMatch(/hit|miss/);
    expect((await call('GET', `${d}/api/context/issue-999/python-specialist`, { token: tok })).status).toBe(403);
    expect((await call('GET', `${d}/api/context/issue-123/python-specialist`)).status).toBe(401);
    const stored = await call('POST', `${d}/api/results`, { token: tok, body: { agent_id: 'ps-plain', agent_type: 'python-specialist', issue_id: 'issue-123', result: { status: 'success', summary: 'refund endpoint' } } });
    expect(stored.status).toBe(201);
    expect((await call('GET', `${d}/api/results/issue-123/python-specialist`, { token: tok })).body).toMatchObject({ agent_id: 'ps-plain' });
    expect((await call('GET', `${d}/api/results/issue-123`, { token: tok })).status).toBe(200);
    expect((await call('GET', `${d}/api/results?issue_id=issue-123`, { token: tok })).status).toBe(200);
    expect((await call('GET', `${d}/api/whoami`, { token: tok })).body).toMatchObject({ agent_id: 'ps-plain', issues: ['issue-123'] });
    expect((await call('GET', `${d}/api/knowledge?q=refund`, { token: tok })).status).toBe(200);
    // an event publish wakes a long-poll parked at the daemon
    const waiting = call<{ events: { data: unknown }[]; timed_out: boolean }>('GET', `${d}/api/events/wait/plain_done?timeout=5000`, { token: tok });
    await new Promise((r) => setTimeout(r, 100));
    const published = await call('POST', `${d}/api/events/plain_done`, { token: tok, body: { issue_id: 'issue-123', data: { via: 'daemon' } } });
    expect(published.status).toBe(201);
    const woken = await waiting;
    expect(woken.status).toBe(200);
    expect(woken.body.events[0]?.data).toEqual({ via: 'daemon' });
    const listed = await call<{ events: unknown[] }>('GET', `${d}/api/events?event_type=plain_done`, { token: tok });
    expect(listed.status).toBe(200);
    expect(listed.body.events).toHaveLength(1);
    // the stream answers with its event-stream head through the daemon too
    const ac = new AbortController();
    const stream = await fetch(`${d}/api/events/stream/plain_done?after=0`, { headers: { authorization: `Bearer ${tok}` }, signal: ac.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    ac.abort();
  });

  it('a 404 names the path the client asked for, not the sidecar path it was sent on to', async () => {
    const tok = await w.token('python-specialist', ['issue-p']);
    const r = await call<{ error: { code: string; message: string } }>('GET', `${w.daemonUrl}/api/orchestration/nope?x=1`, { token: tok });
    expect(r.status).toBe(404);
    expect(r.body.error).toEqual(expect.objectContaining({ code: 'not_found', message: 'No route GET /api/orchestration/nope' }));
    const deeper = await call<{ error: { message: string } }>('POST', `${w.daemonUrl}/api/orchestration/results/a/b/c`, { token: tok, body: {} });
    expect(deeper.body.error.message).toBe('No route POST /api/orchestration/results/a/b/c');
    // a 404 of a route that exists goes back as the sidecar wrote it
    const missing = await call<{ error: { message: string } }>('GET', `${w.daemonUrl}/api/orchestration/results/issue-p/test-engineer`, { token: tok });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('No result of test-engineer for issue issue-p');
  });

  it("exposes the sidecar's figures on the daemon's /metrics", async () => {
    const res = await fetch(`${w.daemonUrl}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/sidecar_request_duration_seconds_count\{method="POST",route="\/api\/results",status="201"\} [1-9]/);
    expect(text).toContain('sidecar_event_consumers{kind="wait"} 0');
  });
});

describe('daemon routes through a real daemon (startDaemon)', () => {
  let d: TestDaemon | undefined;
  afterEach(async () => {
    await d?.cleanup();
    d = undefined;
  });

  it("answers the sidecar's agent paths at the daemon's address, with the daemon's own front door", async () => {
    d = await startTestDaemon();
    const tok = await (d.daemon.modules.sidecar.mintAgentToken as NonNullable<typeof d.daemon.modules.sidecar.mintAgentToken>)({ agentId: 'ps-real', agentType: 'orchestrator', issues: '*' });
    const me = await call('GET', `${d.url}/api/whoami`, { token: tok });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ agent_id: 'ps-real' });
    const published = await call('POST', `${d.url}/api/events/real_done`, { token: tok, body: { data: { ok: true } } });
    expect(published.status).toBe(201);
    const waited = await call<{ events: { data: unknown }[] }>('GET', `${d.url}/api/events/wait/real_done?timeout=1000`, { token: tok });
    expect(waited.body.events[0]?.data).toEqual({ ok: true });
  });

  it('bound beyond loopback (team mode), the agent paths take the agent token alone, as /api/orchestration/* does', async () => {
    d = await startTestDaemon({ config: (c) => ({ ...c, daemon: { ...c.daemon, host: '0.0.0.0' } }) });
    const tok = await (d.daemon.modules.sidecar.mintAgentToken as NonNullable<typeof d.daemon.modules.sidecar.mintAgentToken>)({ agentId: 'ps-team', agentType: 'python-specialist', issues: ['issue-t'] });
    const ask = (url: string, headers: Record<string, string>) => d?.daemon.app.inject({ method: 'GET', url, headers: { host: 'cco.team.lan:3000', ...headers }, remoteAddress: '10.0.0.9' });
    for (const path of ['/api/whoami', '/api/orchestration/whoami', '/api/results/issue-t']) {
      const r = await ask(path, { authorization: `Bearer ${tok}` });
      expect(r?.statusCode, `${path}: ${r?.body}`).toBe(200);
      // no credential at all: still refused
      expect((await ask(path, {}))?.statusCode, path).toBe(401);
    }
    // the daemon's own routes still want the access token from another machine
    expect((await ask('/api/status', { authorization: `Bearer ${tok}` }))?.statusCode).toBe(401);
  });

  it('with [sidecar] enabled = false the forwarded paths answer 503 sidecar_unavailable saying so', async () => {
    d = await startTestDaemon({ config: (c) => ({ ...c, sidecar: { ...c.sidecar, enabled: false } }) });
    for (const path of ['/api/orchestration/health', '/api/context/issue-1/python-specialist', '/api/events/wait/x']) {
      const r = await call<{ error: { code: string; message: string } }>('GET', `${d.url}${path}`);
      expect(r.status, path).toBe(503);
      expect(r.body.error.code, path).toBe('sidecar_unavailable');
      expect(r.body.error.message, path).toContain('[sidecar] enabled');
    }
    expect((await call('POST', `${d.url}/api/results`, { body: { x: 1 } })).status).toBe(503);
  });
});
