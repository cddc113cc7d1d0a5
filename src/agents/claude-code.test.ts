import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../core/version.js';
import { startFakeProvider } from '../fake-provider/server.js';
import type { FakeProvider, RecordedRequest } from '../fake-provider/server.js';
import { loadAgentCatalog } from './catalog.js';
import { exportAgents, toClaudeAgentsJson } from './export.js';

/**
 * The real Claude Code CLI (npm @anthropic-ai/claude-code) loads what the exporter writes:
 * its `init` message lists the agents, and when the (fake, local) model asks the Task tool for
 * `python-specialist`, Claude Code runs that subagent with our prompt and our tool list.
 */
const CLAUDE = join(PACKAGE_ROOT, 'node_modules', '.bin', 'claude');
const catalog = await loadAgentCatalog(undefined, { cacheDir: false });

type Body = { system?: string | { text: string }[]; tools?: { name: string }[]; messages?: { content: unknown }[] };
const systemText = (r: RecordedRequest): string => {
  const s = (r.body as Body | undefined)?.system;
  return typeof s === 'string' ? s : Array.isArray(s) ? s.map((b) => b.text).join('\n') : '';
};
const toolNames = (r: RecordedRequest): string[] => ((r.body as Body | undefined)?.tools ?? []).map((t) => t.name);
const hasToolResult = (r: RecordedRequest): boolean =>
  ((r.body as Body | undefined)?.messages ?? []).some((m) => Array.isArray(m.content) && (m.content as { type: string }[]).some((b) => b.type === 'tool_result'));

function runClaude(cwd: string, home: string, fakeUrl: string, extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(CLAUDE, ['-p', 'Delegate to the python specialist.', '--output-format', 'stream-json', '--verbose', '--max-turns', '3', ...extra], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ANTHROPIC_API_KEY: 'sk-ant-test-agents-0123456789',
        ANTHROPIC_BASE_URL: fakeUrl,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        CLAUDE_CODE_MAX_RETRIES: '0',
        DISABLE_AUTOUPDATER: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function initAgents(stdout: string): string[] {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line) as { type?: string; subtype?: string; agents?: string[] };
    if (m.type === 'system' && m.subtype === 'init') return m.agents ?? [];
  }
  throw new Error(`no init message in Claude Code's output:\n${stdout.slice(0, 2000)}`);
}

describe.skipIf(!existsSync(CLAUDE))('exported agents in the real Claude Code CLI', () => {
  let fake: FakeProvider;
  const root = mkdtempSync(join(tmpdir(), 'cco-agents-claude-'));
  const home = join(root, 'home');
  const pythonRole = 'You are the Python specialist.';

  beforeAll(async () => {
    mkdirSync(home);
    fake = await startFakeProvider();
    fake.setResponder((req) => {
      if (systemText(req).includes(pythonRole)) return { text: 'python-specialist reporting: nothing to do.' };
      // the subagent tool is `Agent` on the wire in current versions, `Task` in older ones
      const spawnTool = toolNames(req).find((t) => t === 'Agent' || t === 'Task');
      if (spawnTool && !hasToolResult(req)) {
        return { toolUse: [{ name: spawnTool, input: { description: 'Python work', prompt: 'Reply with one line.', subagent_type: 'python-specialist' } }] };
      }
      return { text: 'done' };
    });
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('lists all exported agents and runs python-specialist with our prompt and tools', async () => {
    const project = join(root, 'project');
    mkdirSync(project);
    exportAgents(catalog.list(), { dir: project });
    const r = await runClaude(project, home, fake.url, []);
    const agents = initAgents(r.stdout);
    for (const a of catalog.list()) expect(agents, a.name).toContain(a.name);

    const sub = fake.requests.find((q) => systemText(q).includes(pythonRole));
    expect(sub, `no subagent request; Claude Code said:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-1000)}`).toBeDefined();
    expect(systemText(sub!)).toContain('GET /api/context/<issue>/python-specialist');
    const tools = toolNames(sub!);
    expect(tools).toContain('Bash');
    expect(tools).toContain('Read');
    expect(tools).not.toContain('WebSearch'); // not in python-specialist's list: the restriction applies
  }, 180_000);

  it('takes a subset through --agents JSON', async () => {
    const project = join(root, 'empty-project');
    mkdirSync(project);
    const some = ['chief-architect', 'python-specialist', 'unit-test-engineer'].map((n) => catalog.get(n)!);
    const r = await runClaude(project, home, fake.url, ['--agents', JSON.stringify(toClaudeAgentsJson(some))]);
    const agents = initAgents(r.stdout);
    for (const a of some) expect(agents).toContain(a.name);
    expect(agents).not.toContain('security-auditor');
  }, 180_000);
});
