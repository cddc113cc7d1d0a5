import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentCatalog } from './catalog.js';
import { MCP_TOOLS, mcpToolName } from './coordination.js';
import { AgentExportError, EXPORT_MARKER, exportAgents, toClaudeAgentsJson, toClaudeCodeMarkdown } from './export.js';
import { splitFrontMatter } from './parse.js';

const catalog = await loadAgentCatalog(undefined, { cacheDir: false });
const agents = catalog.list();
const dirs: string[] = [];
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cco-agents-export-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('Claude Code subagent files', () => {
  it('round-trips every agent: front matter with only Claude Code fields, prompt as body', () => {
    for (const a of agents) {
      const text = toClaudeCodeMarkdown(a);
      const split = splitFrontMatter(text);
      expect(split, a.name).toBeDefined();
      const fm = parse(split!.yaml) as Record<string, unknown>;
      expect(Object.keys(fm).sort()).toEqual(['description', 'model', 'name', 'tools']);
      expect(fm.name).toBe(a.name);
      expect(fm.description).toBe(a.description);
      expect(fm.model).toBe(a.model);
      // Claude Code's form: one comma-separated string, our tools then the cco MCP tools
      expect(typeof fm.tools).toBe('string');
      expect((fm.tools as string).split(', ')).toEqual([...a.tools, ...MCP_TOOLS.map(mcpToolName)]);
      expect(split!.body).toContain(EXPORT_MARKER);
      expect(split!.body).toContain(`category: ${a.category}`);
      expect(split!.body.trim().endsWith(a.prompt.trim())).toBe(true);
    }
  });

  it('leaves the MCP tools out on request', () => {
    const a = agents[0]!;
    const fm = parse(splitFrontMatter(toClaudeCodeMarkdown(a, { mcpTools: false }))!.yaml) as { tools: string };
    expect(fm.tools).toBe(a.tools.join(', '));
  });

  it('writes .claude/agents/<name>.md, overwrites its own files, and keeps files it did not write', () => {
    const project = temp();
    const some = agents.slice(0, 3);
    const first = exportAgents(some, { dir: project });
    expect(first.agentsDir).toBe(join(project, '.claude', 'agents'));
    expect(readdirSync(first.agentsDir).sort()).toEqual(some.map((a) => `${a.name}.md`).sort());

    const mine = join(first.agentsDir, `${some[1]!.name}.md`);
    writeFileSync(mine, '---\nname: hand-written\ndescription: mine\n---\nMy own agent.\n');
    const again = exportAgents(some, { dir: project });
    expect(again.written).toHaveLength(2);
    expect(again.skipped).toEqual([mine]);
    expect(readFileSync(mine, 'utf8')).toContain('My own agent.');

    const forced = exportAgents(some, { dir: project, force: true });
    expect(forced.skipped).toEqual([]);
    expect(readFileSync(mine, 'utf8')).toContain(EXPORT_MARKER);
  });
});

describe('the --agents JSON', () => {
  it('has Claude Code’s documented shape {name: {description, prompt, tools, model}}', () => {
    const json = toClaudeAgentsJson(agents);
    expect(Object.keys(json)).toHaveLength(agents.length);
    const a = agents[0]!;
    expect(json[a.name]).toEqual({ description: a.description, prompt: a.prompt, tools: [...a.tools, ...MCP_TOOLS.map(mcpToolName)], model: a.model });
    // survives the trip through a command-line argument
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('exporting where files cannot be written', () => {
  it('writes the others and reports each file it could not write; a folder it cannot create is a clear error', async () => {
    const { mkdirSync } = await import('node:fs');
    const d = temp();
    // a folder where one agent's file should go (EISDIR)
    mkdirSync(join(d, '.claude', 'agents', `${agents[0]?.name}.md`), { recursive: true });
    const r = exportAgents(agents, { dir: d, force: true });
    expect(r.failed.map((f) => f.file)).toEqual([join(d, '.claude', 'agents', `${agents[0]?.name}.md`)]);
    expect(r.written).toHaveLength(agents.length - 1);
    // .claude is a file: no agents folder can be made there
    const e = temp();
    writeFileSync(join(e, '.claude'), 'not a folder');
    expect(() => exportAgents(agents, { dir: e })).toThrow(AgentExportError);
    expect(() => exportAgents(agents, { dir: e })).toThrow(/Cannot create .*\.claude\/agents/);
  });

  it('writes only into an existing project folder: a mistyped path fails and creates nothing', () => {
    const base = temp();
    const missing = join(base, 'no', 'such', 'project');
    expect(() => exportAgents(agents, { dir: missing })).toThrow(AgentExportError);
    expect(() => exportAgents(agents, { dir: missing })).toThrow(`Project folder ${missing} does not exist`);
    expect(readdirSync(base)).toEqual([]);
    const file = join(temp(), 'a-file');
    writeFileSync(file, 'x');
    expect(() => exportAgents(agents, { dir: file })).toThrow(`${file} is not a folder`);
  });
});
