import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWorld, ensureBuilt } from '../../test/e2e/harness.js';
import { loadAgentCatalog } from '../agents/catalog.js';
import { splitFrontMatter } from '../agents/parse.js';

// Runs the built CLI (`npm run build` first): node dist/cli/main.js agents ...
beforeAll(() => ensureBuilt(), 120_000);

const catalog = await loadAgentCatalog(undefined, { cacheDir: false });
const total = catalog.list().length;

describe('cco agents (built CLI, temp home)', () => {
  const w = cliWorld();
  afterAll(() => w.cleanup());

  it('list prints every agent and the exact count', async () => {
    const r = await w.run(['agents', 'list']);
    expect(r.code, r.stderr).toBe(0);
    for (const a of catalog.list()) expect(r.stdout).toContain(a.name);
    const categories = new Set(catalog.list().map((a) => a.category)).size;
    expect(r.stdout).toContain(`${total} agents in ${categories} categories`);
  });

  it('list --category --json prints only that category as JSON', async () => {
    const r = await w.run(['agents', 'list', '--category', 'testing', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; category: string; prompt?: string }[];
    expect(rows.length).toBe(catalog.list().filter((a) => a.category === 'testing').length);
    expect(rows.every((a) => a.category === 'testing' && a.prompt === undefined)).toBe(true);
    expect(rows.map((a) => a.name)).toContain('unit-test-engineer');
  });

  it('list with an unknown category fails clearly', async () => {
    const r = await w.run(['agents', 'list', '--category', 'tesing']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown category "tesing". Did you mean "testing"?');
  });

  it('show prints the fields and the prompt; unknown names get a suggestion', async () => {
    const r = await w.run(['agents', 'show', 'python-specialist']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^name: +python-specialist$/m);
    expect(r.stdout).toMatch(/^publishes: +implementation_complete, agent_completed$/m);
    expect(r.stdout).toContain(catalog.get('python-specialist')!.prompt);

    const bad = await w.run(['agents', 'show', 'pyhton-specialist']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Unknown agent "pyhton-specialist". Did you mean "python-specialist"? See the names with: cco agents list');
    expect(bad.stdout).toBe('');

    // a role the catalog names differently: its testers, not ml-engineer (which only shares "engineer")
    const qa = await w.run(['agents', 'show', 'qa-engineer']);
    expect(qa.code).toBe(2);
    expect(qa.stderr).toMatch(/Unknown agent "qa-engineer"\. Did you mean one of "[a-z0-9-]+-test-engineer"(, "[a-z0-9-]+-test-engineer")*\?/);
    expect(qa.stderr).not.toContain('ml-engineer');
  });

  it('export writes .claude/agents in the current directory by default', async () => {
    const project = join(w.root, 'project-default');
    mkdirSync(project);
    const r = await w.run(['agents', 'export'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Exported ${total} agents to ${join(project, '.claude', 'agents')}`);
    const files = readdirSync(join(project, '.claude', 'agents'));
    expect(files).toHaveLength(total);
    const fm = parse(splitFrontMatter(readFileSync(join(project, '.claude', 'agents', 'chief-architect.md'), 'utf8'))!.yaml) as Record<string, string>;
    expect(fm).toMatchObject({ name: 'chief-architect', model: 'opus' });
    expect(fm.tools).toContain('mcp__cco__publish_event');
  });

  it('export --dir --only writes just those; unknown names fail without writing', async () => {
    const project = join(w.root, 'project-only');
    mkdirSync(project);
    const r = await w.run(['agents', 'export', '--dir', project, '--only', 'chief-architect, unit-test-engineer']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(project, '.claude', 'agents')).sort()).toEqual(['chief-architect.md', 'unit-test-engineer.md']);

    const other = join(w.root, 'project-bad');
    const bad = await w.run(['agents', 'export', '--dir', other, '--only', 'chief-architect,no-such-agent']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Unknown agent: "no-such-agent".');
    expect(existsSync(other)).toBe(false);
  });

  it('export --dir needs an existing folder: a mistyped path fails and creates nothing', async () => {
    const missing = join(w.root, 'no-such-dir', 'app');
    const r = await w.run(['agents', 'export', '--dir', missing, '--only', 'chief-architect']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Project folder ${missing} does not exist`);
    expect(r.stdout).toBe('');
    expect(existsSync(join(w.root, 'no-such-dir'))).toBe(false);
  });

  it('export keeps hand-written files unless --force, and says so', async () => {
    const project = join(w.root, 'project-mine');
    const dir = join(project, '.claude', 'agents');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'debugger.md'), '---\nname: debugger\ndescription: mine\n---\nMine.\n');
    const r = await w.run(['agents', 'export', '--dir', project, '--only', 'debugger,code-reviewer']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Skipped 1 existing file not written by cco (use --force to replace)');
    expect(readFileSync(join(dir, 'debugger.md'), 'utf8')).toContain('Mine.');
    const forced = await w.run(['agents', 'export', '--dir', project, '--only', 'debugger', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(dir, 'debugger.md'), 'utf8')).toContain('cco:exported');
  });

  it('export --agents-json prints the JSON for claude --agents', async () => {
    const r = await w.run(['agents', 'export', '--agents-json', '--only', 'code-reviewer', '--no-mcp-tools']);
    expect(r.code, r.stderr).toBe(0);
    const a = catalog.get('code-reviewer')!;
    expect(JSON.parse(r.stdout)).toEqual({ 'code-reviewer': { description: a.description, prompt: a.prompt, tools: a.tools, model: a.model } });
  });

  it('reports an invalid catalog with file and field, and exits 78', async () => {
    const dir = join(w.root, 'bad-catalog');
    mkdirSync(dir);
    const text = readFileSync(catalog.get('chief-architect')!.source!, 'utf8').replace('model: opus', 'model: gpt-4');
    writeFileSync(join(dir, 'chief-architect.md'), text.replace(/upstream: \[[^\]]*\]/, 'upstream: []'));
    const r = await w.run(['agents', 'list', '--catalog', dir]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('1 error in 1 of 1 file');
    expect(r.stderr).toContain('chief-architect.md: model: model must be opus, sonnet, haiku');
  });

  it('prints usage for no subcommand and for an unknown one', async () => {
    const none = await w.run(['agents']);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('list');
    const unknown = await w.run(['agents', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });
});
