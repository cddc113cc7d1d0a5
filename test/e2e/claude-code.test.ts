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

describe.skipIf(!existsSync(CLAUDE))('Claude Code through cco', () => {
  let fake: FakeProvider;
  const w = cliWorld();
  let port = 0;
  const envDump = join(w.root, 'orchestrator-env.txt');
  const claudeEnv = () => ({
    CCO_PORT: String(port),
    PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
    ANTHROPIC_API_KEY: 'sk-ant-test-e2e-key-0123456789',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    DISABLE_AUTOUPDATER: '1',
  });

  beforeAll(async () => {
    ensureBuilt();
    fake = await startFakeProvider();
    fake.setResponder((req) => {
      if (hasToolResult(req)) return { text: 'All done: the environment was written.' };
      if (offersBash(req)) return { toolUse: [{ name: 'Bash', input: { command: `env | grep '^ORCHESTRATOR_' | sort > ${envDump}`, description: 'dump orchestrator env' } }] };
      return { text: 'ok' };
    });
    const r = await w.run(['daemon', 'start', '--port', '0'], { env: { CCO_ANTHROPIC_BASE_URL: fake.url } });
    expect(r.code, r.stderr).toBe(0);
    port = portFrom(r.stdout);
  }, 60_000);

  afterAll(async () => {
    await w.run(['daemon', 'stop', '--port', String(port)]);
    await fake?.close();
    w.cleanup();
  });

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
    expect(env).toContain(`ORCHESTRATOR_API_URL=http://127.0.0.1:${port}`);
    expect(env).toContain(`ORCHESTRATOR_SETTINGS=${join(w.env.CCO_TMPDIR as string, '.cco-orchestrator-settings')}`);
    expect(env).toMatch(/ORCHESTRATOR_HOOKS_CONFIG=\{.*"auto_allow_read":true/);
    expect(env).toContain('ORCHESTRATOR_AUTO_ALLOW_READ=true');

    // Every model call went through the daemon's gateway to the fake, with the client's key passed through.
    const calls = fake.requests.filter((q) => q.path === '/v1/messages');
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.every((q) => q.headers['x-api-key'] === 'sk-ant-test-e2e-key-0123456789')).toBe(true);

    const res = await fetch(`http://127.0.0.1:${port}/api/hooks/events?limit=1000`);
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
