import { readFileSync, realpathSync } from 'node:fs';
import { Readable } from 'node:stream';
import { defaultDaemonConfig } from '../config/daemon-config.js';
import { resolvePaths } from '../config/paths.js';
import { startDaemon } from '../daemon/daemon.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';

describe('hook receiver (real daemon on port 0)', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({ config: (c) => ({ ...c, hooks: { ...c.hooks, auto_allow_read: true, require_cud_confirmation: true } }) });
  });
  afterAll(() => t.cleanup());

  const post = (event: string, body: unknown) =>
    fetch(`${t.url}/api/hooks/${event}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers PreToolUse with the permission decision and records the event', async () => {
    const project = realpathSync(t.env.CCO_HOME as string);
    const read = await post('PreToolUse', { session_id: 's1', hook_event_name: 'PreToolUse', cwd: project, tool_name: 'Read', tool_input: { file_path: `${project}/x` } });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow' } });
    // a read outside the session's folder, or of the web, is left to Claude Code's own checks
    const outside = await post('PreToolUse', { session_id: 's-outside', cwd: project, tool_name: 'Read', tool_input: { file_path: '/etc/shadow' } });
    expect(await outside.json()).toEqual({});
    const fetchWeb = await post('PreToolUse', { session_id: 's-outside', cwd: project, tool_name: 'WebFetch', tool_input: { url: 'http://example.invalid/' } });
    expect(await fetchWeb.json()).toEqual({});
    const write = await post('PreToolUse', { session_id: 's1', tool_name: 'Write', tool_input: { file_path: '/x' } });
    expect(await write.json()).toMatchObject({ hookSpecificOutput: { permissionDecision: 'ask' } });
    const other = await post('PreToolUse', { session_id: 's1', tool_name: 'mcp__cco__publish_event' });
    expect(await other.json()).toEqual({});
    await post('PostToolUse', { session_id: 's1', tool_name: 'Read', tool_response: { ok: true } });
    await post('SubagentStop', { session_id: 's1', agent_id: 'a1', agent_type: 'python-specialist' });

    const events = (await (await fetch(`${t.url}/api/hooks/events?session=s1`)).json()) as { events: { event: string; decision: string | null }[] };
    expect(events.events.map((e) => e.event)).toEqual(['PreToolUse', 'PreToolUse', 'PreToolUse', 'PostToolUse', 'SubagentStop']);
    expect(events.events[0]?.decision).toBe('allow');
    const sessions = (await (await fetch(`${t.url}/api/sessions`)).json()) as { live: { session_id: string; tools_run: number }[] };
    expect(sessions.live.find((s) => s.session_id === 's1' && !('agent_id' in s))?.tools_run).toBe(1);
    expect(t.daemon.hub.recent({ types: ['hook_event'] }).length).toBeGreaterThanOrEqual(5);
  });

  it('answers at once while another writer holds the database, and records the event once it can', async () => {
    const other = new Database(join(t.env.CCO_HOME as string, 'analytics.db'));
    other.pragma('busy_timeout = 1000');
    other.exec('BEGIN IMMEDIATE');
    let released = false;
    try {
      const t0 = Date.now();
      const r = await post('PreToolUse', { session_id: 's-locked', tool_name: 'Write', tool_input: { file_path: '/x' } });
      // was: a 503 database_busy after the store's 5 s busy timeout, and no decision for Claude Code
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ hookSpecificOutput: { permissionDecision: 'ask' } });
      expect(Date.now() - t0).toBeLessThan(2000);
      other.exec('ROLLBACK');
      released = true;
    } finally {
      if (!released) other.exec('ROLLBACK');
      other.close();
    }
    await expect.poll(async () => ((await (await fetch(`${t.url}/api/hooks/events?session=s-locked`)).json()) as { events: { decision: string }[] }).events.map((e) => e.decision), { timeout: 8000 }).toEqual(['ask']);
  });

  it('masks secrets in stored payloads', async () => {
    await post('PreToolUse', { session_id: 's2', tool_name: 'Bash', tool_input: { command: 'curl -H "x-api-key: sk-ant-api03-supersecretvalue123"' } });
    const events = (await (await fetch(`${t.url}/api/hooks/events?session=s2`)).json()) as { events: { payload: unknown }[] };
    expect(JSON.stringify(events.events)).not.toContain('supersecretvalue123');
  });

  it('stores a large tool_response cut to 64 KB with a marker; the decision sees the whole input', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const pre = await post('PreToolUse', { session_id: 'big', tool_name: 'Write', tool_input: { file_path: '/x', content: big } });
    expect(await pre.json()).toMatchObject({ hookSpecificOutput: { permissionDecision: 'ask' } });
    await post('PostToolUse', { session_id: 'big', tool_name: 'Bash', tool_input: { command: 'cat big' }, tool_response: { stdout: big, stderr: '' } });
    const events = (await (await fetch(`${t.url}/api/hooks/events?session=big`)).json()) as { events: { event: string; decision: string | null; payload: Record<string, unknown> }[] };
    expect(events.events.map((e) => [e.event, e.decision])).toEqual([
      ['PreToolUse', 'ask'],
      ['PostToolUse', null],
    ]);
    const [first, second] = events.events;
    expect(second?.payload.tool_input).toEqual({ command: 'cat big' });
    // the long strings are cut, the shape kept: which file was written stays readable
    expect((first?.payload.tool_input as { file_path: string }).file_path).toBe('/x');
    expect((second?.payload.tool_response as { stderr: string }).stderr).toBe('');
    for (const stored of [(first?.payload.tool_input as { content: string }).content, (second?.payload.tool_response as { stdout: string }).stdout]) {
      expect(typeof stored).toBe('string');
      expect(Buffer.byteLength(stored)).toBeLessThan(65 * 1024);
      expect(stored).toMatch(/…\[truncated: \d+ of \d+ bytes cut\]$/);
    }
    const row = await t.daemon.store.db.selectFrom('hook_events').select((eb) => eb.fn.max(eb.fn('length', ['payload'])).as('n')).where('session_id', '=', 'big').executeTakeFirst();
    expect(Number(row?.n)).toBeLessThan(70 * 1024);
  });

  it('refuses unknown events and bad bodies with 400 naming the field', async () => {
    const r = await post('NotAnEvent', {});
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 'unknown_hook_event', field: 'params.event' } });
    const bad = await fetch(`${t.url}/api/hooks/PreToolUse`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tool_name": ' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const wrongType = await post('PreToolUse', { tool_name: 42 });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ error: { field: 'body.tool_name' } });
  });

  it('pages the events with after and the returned cursor, and refuses unknown query keys', async () => {
    for (let i = 0; i < 3; i++) await post('PostToolUse', { session_id: 'paged', tool_name: `T${i}` });
    type Page = { events: { id: number; tool_name: string }[]; cursor: number };
    const get = async (qs: string): Promise<Page> => (await (await fetch(`${t.url}/api/hooks/events?session=paged&${qs}`)).json()) as Page;
    const seen: string[] = [];
    let after = 0;
    for (let i = 0; i < 4; i++) {
      const page = await get(`limit=1&after=${after}`);
      seen.push(...page.events.map((e) => e.tool_name));
      if (page.events.length) expect(page.cursor).toBe(page.events[0]?.id);
      else expect(page.cursor).toBe(after);
      after = page.cursor;
    }
    expect(seen).toEqual(['T0', 'T1', 'T2']);
    const offset = await fetch(`${t.url}/api/hooks/events?limit=1&offset=1`);
    expect(offset.status).toBe(400);
    expect(await offset.json()).toMatchObject({ error: { code: 'invalid_request', field: 'query', message: expect.stringContaining('"offset"') } });
  });
});

describe('hooks of a team-mode daemon (bound beyond loopback: every route wants a credential)', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({ config: (c) => ({ ...c, daemon: { ...c.daemon, host: '0.0.0.0' }, hooks: { ...c.hooks, require_cud_confirmation: true } }) });
  });
  afterAll(() => t.cleanup());

  it("the http hooks handed to Claude Code carry the access token, and `cco hook` sends it: neither is a 401", async () => {
    const settings = JSON.parse(readFileSync(resolvePaths(t.env).settingsFile, 'utf8')) as { hooks: Record<string, { hooks: { url?: string; headers?: Record<string, string> }[] }[]> };
    const pre = settings.hooks.PreToolUse?.[0]?.hooks[0];
    const body = JSON.stringify({ session_id: 's-team', tool_name: 'Write', tool_input: { file_path: '/x' } });
    // as Claude Code sends it: the entry's URL and headers
    const r = await fetch(pre?.url as string, { method: 'POST', headers: { 'content-type': 'application/json', ...pre?.headers }, body });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ hookSpecificOutput: { permissionDecision: 'ask' } });
    // without them, refused (the check this guards against)
    expect((await fetch(pre?.url as string, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    // the command form (SessionStart): the token read from this machine's token file
    const out = await runHook(t, 'PreToolUse', body);
    expect(JSON.parse(out)).toMatchObject({ hookSpecificOutput: { permissionDecision: 'ask' } });
  });
});

/** `cco hook <event>` with `input` on stdin, against the test daemon; its stdout. */
async function runHook(t: TestDaemon, event: string, input: string): Promise<string> {
  const { main } = await import('../cli/hook.js');
  const port = new URL(t.url).port;
  const saved = { ...process.env };
  Object.assign(process.env, t.env, { ORCHESTRATOR_API_URL: `http://127.0.0.1:${port}` });
  const stdin = Readable.from([Buffer.from(input)]) as unknown as typeof process.stdin;
  const realStdin = Object.getOwnPropertyDescriptor(process, 'stdin');
  Object.defineProperty(process, 'stdin', { value: stdin, configurable: true });
  const written: string[] = [];
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string) => (written.push(String(c)), true)) as typeof process.stdout.write;
  try {
    expect(await main([event])).toBe(0);
  } finally {
    process.stdout.write = realWrite;
    if (realStdin) Object.defineProperty(process, 'stdin', realStdin);
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  return written.join('');
}

describe('the session view across a daemon restart', () => {
  it('is rebuilt from the recorded hook events: the cards and their counts survive', async () => {
    const first = await startTestDaemon();
    const env = first.env;
    const post = (url: string, event: string, body: unknown) => fetch(`${url}/api/hooks/${event}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const tool of ['Read', 'Grep']) {
      await post(first.url, 'PreToolUse', { session_id: 's-restart', tool_name: tool });
      await post(first.url, 'PostToolUse', { session_id: 's-restart', tool_name: tool });
    }
    await post(first.url, 'PreToolUse', { session_id: 's-restart', tool_name: 'Bash' });
    await first.daemon.close();
    const base = defaultDaemonConfig();
    const again = await startDaemon({ env, paths: resolvePaths(env), config: { ...base, daemon: { ...base.daemon, port: 0, log_level: 'warn' }, sidecar: { ...base.sidecar, port: 0 } } });
    try {
      const live = ((await (await fetch(`${again.url}/api/sessions`)).json()) as { live: { session_id: string; tools_run: number; status: string; current_tool?: string }[] }).live;
      // was: [] after the restart, and the next tool counted from 0
      expect(live.find((s) => s.session_id === 's-restart')).toMatchObject({ tools_run: 2, status: 'Working', current_tool: 'Bash' });
      await post(again.url, 'PostToolUse', { session_id: 's-restart', tool_name: 'Bash' });
      const after = ((await (await fetch(`${again.url}/api/sessions`)).json()) as { live: { session_id: string; tools_run: number }[] }).live;
      expect(after.find((s) => s.session_id === 's-restart')?.tools_run).toBe(3);
    } finally {
      await again.close();
      await first.cleanup().catch(() => undefined);
    }
  });
});
