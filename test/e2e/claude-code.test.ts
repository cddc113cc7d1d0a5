import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../../src/fake-provider/server.js';
import type { FakeProvider, RecordedRequest } from '../../src/fake-provider/server.js';
import { ROOT, cliWorld, ensureBuilt, portFrom } from './harness.js';

/**
 * The real Claude Code CLI (npm @anthropic-ai/claude-code) launched through `cco -p`, against
 * the fake Anthropic upstream behind the daemon's gateway. Claude Code runs a scripted Bash
 * tool call that dumps its ORCHESTRATOR_* environment; the daemon must have recorded the
 * hook events of the run.
 */
const CLAUDE = join(ROOT, 'node_modules', '.bin', 'claude');

function hasToolResult(req: RecordedRequest): boolean {
  const msgs = ((req.body as { messages?: { role: string; content: unknown }[] })?.messages ?? []);
  const last = msgs[msgs.length - 1];
  return Array.isArray(last?.content) && (last.content as { type: string }[]).some((b) => b.type === 'tool_result');
}

function offersBash(req: RecordedRequest): boolean {
  return ((req.body as { tools?: { name: string }[] })?.tools ?? []).some((t) => t.name === 'Bash');
}

/** Claude Code's environment for a run against the daemon on `port`, offline and quick to fail. */
function claudeEnvFor(port: number): Record<string, string> {
  return {
    CCO_PORT: String(port),
    PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    ANTHROPIC_API_KEY: 'sk-ant-test-e2e-key-0123456789',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    DISABLE_AUTOUPDATER: '1',
  };
}

/**
 * A temp CCO world with a daemon whose gateway forwards to a fake upstream scripted by
 * `responder`; registers its own beforeAll/afterAll.
 */
function daemonWithFakeUpstream(responder: Parameters<FakeProvider['setResponder']>[0]) {
  const w = cliWorld();
  const state = { w, port: 0, fake: undefined as FakeProvider | undefined };
  beforeAll(async () => {
    ensureBuilt();
    state.fake = await startFakeProvider();
    state.fake.setResponder(responder);
    const r = await w.run(['daemon', 'start', '--port', '0'], { env: { CCO_ANTHROPIC_BASE_URL: state.fake.url } });
    expect(r.code, r.stderr).toBe(0);
    state.port = portFrom(r.stdout);
  }, 60_000);
  afterAll(async () => {
    await w.run(['daemon', 'stop', '--port', String(state.port)]);
    await state.fake?.close();
    w.cleanup();
  });
  return state;
}

describe.skipIf(!existsSync(CLAUDE))('Claude Code through cco', () => {
  const envDumpName = 'orchestrator-env.txt';
  const t = daemonWithFakeUpstream((req) => {
    if (hasToolResult(req)) return { text: 'All done: the environment was written.' };
    if (offersBash(req)) return { toolUse: [{ name: 'Bash', input: { command: `env | grep '^ORCHESTRATOR_' | sort > ${join(t.w.root, envDumpName)}`, description: 'dump orchestrator env' } }] };
    return { text: 'ok' };
  });
  const w = t.w;
  const envDump = join(w.root, envDumpName);
  const claudeEnv = () => claudeEnvFor(t.port);

  it('runs a prompt with a tool call; the tool sees ORCHESTRATOR_*; the daemon records the hooks', async () => {
    const r = await w.run(['-p', 'Write the orchestrator environment to a file.', '--output-format', 'json', '--allowedTools', 'Bash'], {
      env: claudeEnv(),
      timeoutMs: 120_000,
    });
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    // status lines on stderr, Claude Code's JSON alone on stdout
    expect(r.stderr).toContain('✅ Daemon is running');
    expect(r.stderr).toContain('🚀 Launching Claude Code with orchestration support...');
    const out = JSON.parse(r.stdout) as { result: string; is_error: boolean };
    expect(out.is_error).toBe(false);
    expect(out.result).toContain('All done');

    const env = readFileSync(envDump, 'utf8');
    expect(env).toContain('ORCHESTRATOR_ENABLED=true');
    expect(env).toContain(`ORCHESTRATOR_API_URL=http://127.0.0.1:${t.port}`);
    expect(env).toContain(`ORCHESTRATOR_SETTINGS=${join(w.env.CCO_TMPDIR as string, '.cco-orchestrator-settings')}`);
    expect(env).toMatch(/ORCHESTRATOR_HOOKS_CONFIG=\{.*"auto_allow_read":true/);
    expect(env).toContain('ORCHESTRATOR_AUTO_ALLOW_READ=true');

    // Every model call went through the daemon's gateway to the fake, with the client's key passed through.
    const calls = (t.fake as FakeProvider).requests.filter((q) => q.path === '/v1/messages');
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.every((q) => q.headers['x-api-key'] === 'sk-ant-test-e2e-key-0123456789')).toBe(true);
    // The catalog reached Claude Code as subagents its Task/Agent tool can spawn, and our MCP tools are offered.
    const offered = JSON.stringify(calls.map((q) => (q.body as { tools?: unknown }).tools));
    expect(offered).toContain('python-specialist');
    expect(offered).toContain('mcp__cco__get_context');

    const res = await fetch(`http://127.0.0.1:${t.port}/api/hooks/events?limit=1000`);
    const { events } = (await res.json()) as { events: { event: string; tool_name: string | null; session_id: string | null }[] };
    const kinds = new Set(events.map((e) => e.event));
    for (const k of ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop']) expect(kinds, k).toContain(k);
    expect(events.some((e) => e.event === 'PreToolUse' && e.tool_name === 'Bash')).toBe(true);
    expect(new Set(events.map((e) => e.session_id)).size).toBe(1);
  }, 150_000);

  it('passes Claude Code’s exit code through', async () => {
    const direct = spawnSync(CLAUDE, ['--definitely-not-a-flag'], { env: { ...process.env, ...claudeEnv() }, encoding: 'utf8', input: '' });
    expect(direct.status).not.toBe(0);
    const r = await w.run(['--definitely-not-a-flag'], { env: claudeEnv(), timeoutMs: 60_000 });
    expect(r.code).toBe(direct.status);
  }, 90_000);
});

describe.skipIf(!existsSync(CLAUDE))('Claude Code uses the daemon’s MCP tools through cco', () => {
  const t = daemonWithFakeUpstream((req) => {
    const tools = ((req.body as { tools?: { name: string }[] })?.tools ?? []).map((x) => x.name);
    if (hasToolResult(req)) return { text: 'Published.' };
    if (tools.includes('mcp__cco__publish_event')) {
      return { toolUse: [{ name: 'mcp__cco__publish_event', input: { event_type: 'architecture_defined', topic: 'issue-42', issue_id: 'issue-42', data: { decision: 'use PostgreSQL' } } }] };
    }
    return { text: 'ok' };
  });
  const w = t.w;

  it('a scripted publish_event call lands in the sidecar', async () => {
    const r = await w.run(['Publish the architecture decision.', '-p', '--output-format', 'json'], {
      env: claudeEnvFor(t.port),
      timeoutMs: 120_000,
    });
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    expect((JSON.parse(r.stdout) as { result: string }).result).toContain('Published');
    // The positional prompt survived the launcher's own flags.
    const first = (t.fake as FakeProvider).requests.find((q) => q.path === '/v1/messages' && JSON.stringify(q.body).includes('Publish the architecture decision.'));
    expect(first).toBeDefined();
    const toolResult = (t.fake as FakeProvider).requests.find((q) => hasToolResult(q));
    expect(JSON.stringify(toolResult?.body)).not.toMatch(/is_error":true/);
    // The event is in the sidecar: an agent token minted by the daemon reads it back.
    const access = readFileSync(join(w.env.CCO_RUNTIME_DIR as string, 'access-token'), 'utf8').trim();
    const spawn = await fetch(`http://127.0.0.1:${t.port}/api/agents/spawn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cco-token': access },
      body: JSON.stringify({ agent_type: 'python-specialist', issues: ['issue-42'] }),
    });
    expect(spawn.status, await spawn.clone().text()).toBeLessThan(300);
    const { token, env } = (await spawn.json()) as { token: string; env: { ORCHESTRATOR_SIDECAR_URL: string } };
    const waited = await fetch(`${env.ORCHESTRATOR_SIDECAR_URL}/api/events/wait/architecture_defined?filter=topic:issue-42&timeout=2000`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await waited.json()) as { events: { data: unknown; issue_id: string }[] };
    expect(body.events[0]).toMatchObject({ issue_id: 'issue-42', data: { decision: 'use PostgreSQL' } });
    const hooks = (await (await fetch(`http://127.0.0.1:${t.port}/api/hooks/events?limit=1000`)).json()) as { events: { event: string; tool_name: string | null }[] };
    expect(hooks.events.some((e) => e.event === 'PostToolUse' && e.tool_name === 'mcp__cco__publish_event')).toBe(true);
  }, 150_000);
});
