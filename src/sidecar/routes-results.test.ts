import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startSidecarWorld } from './test-world.js';
import type { SidecarWorld } from './test-world.js';

/** Every file under a folder (relative paths). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('sidecar results (real HTTP)', () => {
  let w: SidecarWorld;
  beforeAll(async () => {
    w = await startSidecarWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  const seedResult = {
    agent_id: 'python-specialist-123',
    agent_type: 'python-specialist',
    issue_id: 'issue-123',
    result: { status: 'success', files_created: ['api.py', 'tests/test_api.py'], decisions: ['Use FastAPI for REST API'] },
  };

  it('stores the seed result: file results/<issue>/<agent-type>.json and a store row before 201', async () => {
    const tok = await w.token('python-specialist', ['issue-123'], { agentId: 'python-specialist-123' });
    const r = await call('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: seedResult });
    expect(r.status).toBe(201);
    const file = join(w.paths.resultsDir, 'issue-123', 'python-specialist.json');
    expect(r.body).toMatchObject({ status: 'stored', issue_id: 'issue-123', agent_type: 'python-specialist', file });
    // both durable by the time the 201 arrived
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject(seedResult);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const row = await w.store.db.selectFrom('sidecar_results').selectAll().where('issue_id', '=', 'issue-123').executeTakeFirstOrThrow();
    expect(row.agent_type).toBe('python-specialist');
    expect(JSON.parse(row.body)).toMatchObject(seedResult);
    expect(w.hub.recent({ types: ['agent_activity'] }).some((m) => (m.data as { action: string }).action === 'result_stored')).toBe(true);
    const status = await call<Record<string, Record<string, unknown>>>('GET', `${w.sidecarUrl}/status`);
    expect(status.body.storage?.results_stored).toBe(1);
    expect(status.body.agents).toMatchObject({ completed: 1 });
  });

  it('lists and fetches results, within the token scope', async () => {
    const tok = await w.token('chief-architect', ['issue-123']);
    const list = await call<{ results: { agent_type: string }[] }>('GET', `${w.sidecarUrl}/api/results?issue_id=issue-123`, { token: tok });
    expect(list.status).toBe(200);
    expect(list.body.results.map((r) => r.agent_type)).toEqual(['python-specialist']);
    const byIssue = await call<{ results: unknown[] }>('GET', `${w.sidecarUrl}/api/results/issue-123`, { token: tok });
    expect(byIssue.body.results).toHaveLength(1);
    const one = await call('GET', `${w.sidecarUrl}/api/results/issue-123/python-specialist`, { token: tok });
    expect(one.body).toMatchObject(seedResult);
    expect((await call('GET', `${w.sidecarUrl}/api/results/issue-123/test-engineer`, { token: tok })).status).toBe(404);
    const other = await w.token('chief-architect', ['issue-999']);
    const hidden = await call<{ results: unknown[] }>('GET', `${w.sidecarUrl}/api/results`, { token: other });
    expect(hidden.body.results).toEqual([]);
  });

  it('a spawned agent is completed by its result, whatever agent_id the body names', async () => {
    const spawned = await call<{ token: string; agent_id: string }>('POST', `${w.daemonUrl}/api/agents/spawn`, { headers: { 'x-cco-token': w.ctx.accessToken }, body: { agent_type: 'test-engineer', issue_id: 'issue-status' } });
    expect(spawned.status).toBe(201);
    const status = async () => (await call<{ agents: { active: number; completed: number } }>('GET', `${w.sidecarUrl}/status`)).body.agents;
    const before = await status();
    // the prompt's "<type>-<issue>", not the spawned id
    const r = await call<{ agent_id: string }>('POST', `${w.sidecarUrl}/api/results`, { token: spawned.body.token, body: { agent_id: 'test-engineer-issue-status', agent_type: 'test-engineer', issue_id: 'issue-status', result: { status: 'success' } } });
    expect(r.status).toBe(201);
    const after = await status();
    expect(after.completed).toBe(before.completed + 1);
    expect(after.active).toBe(before.active - 1);
    // stored as the token's agent: a scoped token cannot put a result on another agent's record
    expect(r.body.agent_id).toBe(spawned.body.agent_id);
    const doc = await call<{ agent_id: string }>('GET', `${w.sidecarUrl}/api/results/issue-status/test-engineer`, { token: spawned.body.token });
    expect(doc.body.agent_id).toBe(spawned.body.agent_id);
  });

  it('identifiers of up to 128 characters are fetched by path, directly and through the daemon', async () => {
    const issue = `long-${'i'.repeat(110)}`;
    const tok = await w.token('python-specialist', [issue]);
    const saved = await call('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { agent_id: 'a-long', agent_type: 'python-specialist', issue_id: issue, result: { status: 'success', summary: 'long id' } } });
    expect(saved.status).toBe(201);
    for (const base of [`${w.sidecarUrl}/api`, `${w.daemonUrl}/api/orchestration`]) {
      const one = await call<{ result: { summary: string } }>('GET', `${base}/results/${issue}/python-specialist`, { token: tok });
      expect(one.status, base).toBe(200);
      expect(one.body.result.summary).toBe('long id');
      expect((await call('GET', `${base}/context/${issue}/python-specialist`, { token: tok })).status, base).toBe(200);
    }
  });

  it('a list past its limit has the newest results (oldest first)', async () => {
    const issues = ['issue-m0', 'issue-m1', 'issue-m2', 'issue-m3'];
    const tok = await w.token('test-engineer', issues);
    for (const issue of issues) {
      const r = await call('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { agent_id: `t-${issue}`, agent_type: 'test-engineer', issue_id: issue, result: { status: 'success' } } });
      expect(r.status).toBe(201);
      await new Promise((r) => setTimeout(r, 3));
    }
    const list = await call<{ results: { issue_id: string }[] }>('GET', `${w.sidecarUrl}/api/results?limit=2`, { token: tok });
    expect(list.body.results.map((r) => r.issue_id)).toEqual(['issue-m2', 'issue-m3']);
  });

  it('pages past the limit with offset and total, and refuses query keys it does not take', async () => {
    const issues = ['issue-p0', 'issue-p1', 'issue-p2'];
    const tok = await w.token('test-engineer', issues);
    for (const issue of issues) {
      expect((await call('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { agent_id: `t-${issue}`, agent_type: 'test-engineer', issue_id: issue, result: { status: 'success' } } })).status).toBe(201);
      await new Promise((r) => setTimeout(r, 3));
    }
    type Page = { count: number; total: number; results: { issue_id: string }[] };
    const page = async (qs: string) => (await call<Page>('GET', `${w.sidecarUrl}/api/results?${qs}`, { token: tok })).body;
    const pages = [await page('limit=1&offset=0'), await page('limit=1&offset=1'), await page('limit=1&offset=2'), await page('limit=1&offset=3')];
    expect(pages.map((p) => p.results.map((r) => r.issue_id))).toEqual([['issue-p2'], ['issue-p1'], ['issue-p0'], []]);
    expect(pages.map((p) => p.total)).toEqual([3, 3, 3, 3]);
    expect(await page('limit=2&offset=1')).toMatchObject({ count: 2, total: 3, results: [{ issue_id: 'issue-p0' }, { issue_id: 'issue-p1' }] });
    const after = await call<{ error: { field: string; message: string } }>('GET', `${w.sidecarUrl}/api/results?limit=1&after=1`, { token: tok });
    expect(after.status).toBe(400);
    expect(after.body.error).toMatchObject({ field: 'query', message: expect.stringContaining('"after"') });
    const huge = await call<{ error: { message: string } }>('GET', `${w.sidecarUrl}/api/results?limit=99999999999999999999`, { token: tok });
    expect(huge.body.error.message).toBe('query.limit: an integer from 1 to 5000');
  });

  it('a JSON body sent as text/plain (fetch with a string body) is stored; plain text is a 400 naming application/json', async () => {
    const tok = await w.token('test-engineer', ['issue-plain']);
    const body = JSON.stringify({ agent_id: 't-plain', agent_type: 'test-engineer', issue_id: 'issue-plain', result: { status: 'success' } });
    const r = await fetch(`${w.sidecarUrl}/api/results`, { method: 'POST', headers: { authorization: `Bearer ${tok}` }, body });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ status: 'stored', issue_id: 'issue-plain' });
    const text = await call<{ error: { code: string; message: string } }>('POST', `${w.sidecarUrl}/api/results`, { token: tok, rawBody: 'all tests pass', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(400);
    expect(text.body.error).toMatchObject({ code: 'invalid_json', message: expect.stringContaining('Content-Type: application/json') });
  });

  it('stored_at is epoch milliseconds in the 201, the list, the document and the file', async () => {
    const tok = await w.token('test-engineer', ['issue-ts']);
    const saved = await call<{ stored_at: unknown; file: string }>('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { agent_id: 't-ts', agent_type: 'test-engineer', issue_id: 'issue-ts', result: { status: 'success' } } });
    expect(typeof saved.body.stored_at).toBe('number');
    const listed = await call<{ results: { stored_at: unknown }[] }>('GET', `${w.sidecarUrl}/api/results?issue_id=issue-ts`, { token: tok });
    const one = await call<{ stored_at: unknown }>('GET', `${w.sidecarUrl}/api/results/issue-ts/test-engineer`, { token: tok });
    const file = JSON.parse(readFileSync(saved.body.file, 'utf8')) as { stored_at: unknown };
    expect([listed.body.results[0]?.stored_at, one.body.stored_at, file.stored_at]).toEqual([saved.body.stored_at, saved.body.stored_at, saved.body.stored_at]);
  });

  it('a later result of the same agent type replaces the earlier one (file and row)', async () => {
    const tok = await w.token('python-specialist', ['issue-123']);
    const r = await call('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { ...seedResult, result: { status: 'partial', decisions: ['Switch to Litestar'] } } });
    expect(r.status).toBe(201);
    const doc = JSON.parse(readFileSync(join(w.paths.resultsDir, 'issue-123', 'python-specialist.json'), 'utf8')) as { result: { status: string } };
    expect(doc.result.status).toBe('partial');
    const rows = await w.store.db.selectFrom('sidecar_results').selectAll().where('issue_id', '=', 'issue-123').execute();
    expect(rows).toHaveLength(1);
  });

  it('knowledge search finds stored decisions across issues, filtered by agent type and scope', async () => {
    const all = await w.token('chief-architect', '*');
    const spec = await w.token('python-specialist', ['issue-k2']);
    await call('POST', `${w.sidecarUrl}/api/results`, { token: spec, body: { agent_id: 'ps-k2', agent_type: 'python-specialist', issue_id: 'issue-k2', result: { status: 'success', decisions: ['Cache sessions in Redis with a 15 minute TTL'] } } });
    const r = await call<{ results: { issue_id: string; agent_type: string; content: string; kind: string }[] }>('GET', `${w.sidecarUrl}/api/knowledge?q=redis+sessions`, { token: all });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({ issue_id: 'issue-k2', kind: 'decision', content: 'Cache sessions in Redis with a 15 minute TTL' });
    const litestar = await call<{ results: { content: string }[] }>('GET', `${w.sidecarUrl}/api/knowledge?q=litestar&agent_type=python-specialist`, { token: all });
    expect(litestar.body.results.map((h) => h.content)).toContain('Switch to Litestar');
    // the replaced result's decision left the index with it
    const old = await call<{ results: unknown[] }>('GET', `${w.sidecarUrl}/api/knowledge?q=fastapi`, { token: all });
    expect(old.body.results).toEqual([]);
    const wrongType = await call<{ results: unknown[] }>('GET', `${w.sidecarUrl}/api/knowledge?q=litestar&agent_type=test-engineer`, { token: all });
    expect(wrongType.body.results).toEqual([]);
    const scoped = await call<{ results: unknown[] }>('GET', `${w.sidecarUrl}/api/knowledge?q=litestar`, { token: spec });
    expect(scoped.body.results).toEqual([]);
    expect((await call('GET', `${w.sidecarUrl}/api/knowledge`, { token: all })).status).toBe(400);
  });

  it('a result that indentation would blow up is stored compact (the file stays near the body size)', async () => {
    const tok = await w.token('python-specialist', '*');
    // 60 levels deep, 20,000 small values at the bottom: indented, each would get a 120-space line
    const nested = `${'['.repeat(59)}[${Array.from({ length: 20_000 }, () => '0').join(',')}]${']'.repeat(59)}`;
    const raw = `{"agent_id": "a", "agent_type": "python-specialist", "issue_id": "i-wide", "result": {"status": "success", "x": ${nested}}}`;
    const r = await call<{ bytes: number; file: string }>('POST', `${w.sidecarUrl}/api/results`, { token: tok, rawBody: raw });
    expect(r.status).toBe(201);
    expect(r.body.bytes).toBeLessThan(2 * raw.length + 128 * 1024);
    expect(statSync(r.body.file).size).toBe(r.body.bytes);
    expect(JSON.parse(readFileSync(r.body.file, 'utf8'))).toMatchObject({ issue_id: 'i-wide', result: { status: 'success' } });
    // an ordinary result is still indented for people
    const small = await call<{ file: string }>('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { ...seedResult, issue_id: 'i-small' } });
    expect(readFileSync(small.body.file, 'utf8')).toContain('\n  "agent_id"');
  });

  it('rejects bad input with a clear 4xx and writes nothing outside the results folder', async () => {
    const tok = await w.token('python-specialist', '*');
    const before = filesUnder(w.paths.home);
    const u = `${w.sidecarUrl}/api/results`;
    const traversal = ['../../etc', '..', '../x', 'a/../../b', '/abs', 'a\\b', '.hidden', 'issue%2F..', 'a\u0000b', ''];
    for (const issue of traversal) {
      const r = await call<{ error: { field: string } }>('POST', u, { token: tok, body: { ...seedResult, issue_id: issue } });
      expect(r.status, issue).toBe(400);
      expect(r.body.error.field, issue).toBe('body.issue_id');
    }
    for (const type of ['../python-specialist', 'Python', 'a/b', '..', 'x.json']) {
      const r = await call<{ error: { field: string } }>('POST', u, { token: tok, body: { ...seedResult, agent_type: type } });
      expect(r.status, type).toBe(400);
      expect(r.body.error.field, type).toBe('body.agent_type');
    }
    // a field beside `result` (the shape an older rule gave: decision, output) is named, not dropped
    const beside = await call<{ error: { field: string; message: string } }>('POST', u, { token: tok, body: { ...seedResult, decision: 'Use FastAPI' } });
    expect(beside.status).toBe(400);
    expect(beside.body.error.field).toBe('body');
    expect(beside.body.error.message).toContain('decision');
    const unknown = await call<{ error: { code: string } }>('POST', u, { token: tok, body: { ...seedResult, agent_type: 'quantum-wizard' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_agent_type');
    const ctxUnknown = await call<{ error: { code: string } }>('GET', `${w.sidecarUrl}/api/context/issue-1/quantum-wizard`, { token: tok });
    expect(ctxUnknown.status).toBe(404);
    expect(ctxUnknown.body.error.code).toBe('unknown_agent_type');
    // a typo of a known type names it
    const typo = await call<{ error: { code: string; message: string } }>('GET', `${w.sidecarUrl}/api/context/issue-1/python-specialst`, { token: tok });
    expect(typo.body.error.message).toContain('did you mean "python-specialist"?');
    for (const p of ['/api/context/..%2F..%2Fetc/python-specialist', '/api/context/issue-1/..%2Fpython-specialist', '/api/results/..%2F..']) {
      const r = await call('GET', `${w.sidecarUrl}${p}`, { token: tok });
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
    }
    const long = await call<{ error: { code: string; field: string } }>('GET', `${w.sidecarUrl}/api/context/${'i'.repeat(5000)}/python-specialist`, { token: tok });
    expect(long.status).toBe(414);
    // the sidecar's own limits, not the daemon's or Fastify's defaults
    expect(long.body.error).toMatchObject({ code: 'uri_too_long', field: 'params', message: 'A path segment is longer than 256 characters; identifiers are much shorter' });
    const huge = await call<{ error: { code: string; message: string } }>('POST', u, { token: tok, body: { ...seedResult, result: { status: 'success', blob: 'x'.repeat(1024 * 1024 + 10) } } });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatchObject({ code: 'body_too_large', message: 'Request body is larger than the 1 MB this route accepts' });
    const malformed = await call<{ error: { code: string } }>('POST', u, { token: tok, rawBody: '{"agent_id": "a", ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');
    const noBody = await call('POST', u, { token: tok });
    expect(noBody.status).toBe(400);
    const missing = await call<{ error: { field: string } }>('POST', u, { token: tok, body: { agent_id: 'a', agent_type: 'python-specialist', issue_id: 'i-1' } });
    expect(missing.body.error.field).toBe('body.result');
    const badStatus = await call<{ error: { field: string } }>('POST', u, { token: tok, body: { ...seedResult, result: { status: 'great' } } });
    expect(badStatus.body.error.field).toBe('body.result.status');
    // nested thousands deep: refused before anything walks it (it used to be stored as a 12 MB file)
    const deep = await call<{ error: { field: string; message: string } }>('POST', u, { token: tok, rawBody: `{"agent_id": "a", "agent_type": "python-specialist", "issue_id": "i-deep", "result": {"status": "success", "x": ${'['.repeat(2500)}${']'.repeat(2500)}}}` });
    expect(deep.status).toBe(400);
    expect(deep.body.error).toMatchObject({ field: 'body', message: expect.stringContaining('nested deeper than 64') });
    // a scoped agent cannot store as another agent type
    const spec = await w.token('python-specialist', ['issue-123']);
    const spoof = await call('POST', u, { token: spec, body: { ...seedResult, agent_type: 'security-auditor' } });
    expect(spoof.status).toBe(403);
    expect(filesUnder(w.paths.home)).toEqual(before);
  });
});
