import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAgentCatalog } from './catalog.js';
import { checkCatalog } from './check.js';
import { AgentCatalogError } from './errors.js';
import type { AgentIssue } from './errors.js';
import { parseAgentFile, splitFrontMatter } from './parse.js';

const BODY = `You are a test agent. ${'You check things carefully and report what you found, with evidence. '.repeat(5)}`;

/** A valid agent file; `over` replaces whole front-matter lines by key. */
function agentFile(name: string, over: Record<string, string | null> = {}, body = BODY): string {
  const fields: Record<string, string> = {
    name: `name: ${name}`,
    description: 'description: "Use this agent when a test needs a valid agent definition to parse."',
    tools: 'tools: Read, Grep, Bash',
    model: 'model: sonnet',
    category: 'category: testing',
    context: 'context:\n  include: ["src/**"]\n  upstream: []\n  max_bytes: 50000',
    topics: 'topics:\n  subscribe: []\n  publish: [thing_done]',
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete fields[k];
    else fields[k] = v;
  }
  return `---\n${Object.values(fields).join('\n')}\n---\n${body}\n`;
}

function issuesOf(text: string, file = 'a-agent.md'): AgentIssue[] {
  const r = parseAgentFile(text, file);
  return r.ok ? [] : r.issues;
}

describe('parseAgentFile', () => {
  it('parses a valid file into a definition (tools split, prompt = body)', () => {
    const r = parseAgentFile(agentFile('a-agent'), 'a-agent.md');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.agent).toMatchObject({ name: 'a-agent', tools: ['Read', 'Grep', 'Bash'], model: 'sonnet', category: 'testing', topics: { subscribe: [], publish: ['thing_done'] } });
    expect(r.agent.context).toEqual({ include: ['src/**'], upstream: [], max_bytes: 50000 });
    expect(r.agent.prompt).toBe(BODY.trim());
  });

  it('accepts tools as a YAML list and CRLF line endings', () => {
    const text = agentFile('a-agent', { tools: 'tools: [Read, mcp__cco__get_context]' }).replace(/\n/g, '\r\n');
    const r = parseAgentFile(text, 'a-agent.md');
    expect(r.ok && r.agent.tools).toEqual(['Read', 'mcp__cco__get_context']);
  });

  it.each([
    ['a missing field', { description: null }, 'description', /required/],
    ['an unknown tool', { tools: 'tools: Read, Grpe' }, 'tools[1]', /unknown Claude Code tool "Grpe"/],
    ['a bad model', { model: 'model: gpt-4' }, 'model', /opus, sonnet, haiku/],
    ['a name that is not kebab-case', { name: 'name: A_Agent' }, 'name', /kebab-case/],
    ['an unknown field', { color: 'colour: blue' }, '(front matter)', /unknown field colour/],
    ['an unknown nested field', { context: 'context:\n  include: ["src/**"]\n  upstreams: [x]' }, 'context', /unknown field upstreams/],
    ['a glob climbing out of the project', { context: 'context:\n  include: ["../secrets/**"]' }, 'context.include[0]', /never climb out/],
    ['an event type in the wrong case', { topics: 'topics:\n  publish: [Thing-Done]' }, 'topics.publish[0]', /snake_case/],
    ['no published event', { topics: 'topics:\n  subscribe: []\n  publish: []' }, 'topics.publish', /at least one/],
    ['a short description', { description: 'description: helps' }, 'description', /at least 40/],
    ['a max_bytes out of range', { context: 'context:\n  include: ["src/**"]\n  max_bytes: 10' }, 'context.max_bytes', /4096/],
  ])('names the field for %s', (_what, over, field, message) => {
    const issues = issuesOf(agentFile('a-agent', over));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ file: 'a-agent.md', field });
    expect(issues[0]?.message).toMatch(message);
  });

  it('reports YAML syntax errors with the file line', () => {
    const text = agentFile('a-agent', { description: 'description: Use it: when x' });
    const [issue] = issuesOf(text);
    expect(issue?.field).toBe('(front matter)');
    // line 1 is "---", line 2 the name, line 3 the description
    expect(issue?.message).toMatch(/YAML error \(line 3, column \d+\)/);
  });

  it('rejects a file without front matter, a name that differs from the file, a short body, self-subscription', () => {
    expect(issuesOf('# just markdown\n')[0]?.message).toMatch(/missing YAML front matter/);
    expect(issuesOf(agentFile('b-agent'))[0]).toMatchObject({ field: 'name', message: expect.stringMatching(/does not match the file name/) });
    expect(issuesOf(agentFile('a-agent', {}, 'Too short.'))[0]?.field).toBe('(body)');
    const loop = issuesOf(agentFile('a-agent', { topics: 'topics:\n  subscribe: [thing_done]\n  publish: [thing_done]' }));
    expect(loop[0]).toMatchObject({ field: 'topics.subscribe', message: expect.stringMatching(/wake itself/) });
  });

  it('splits front matter only at the start of the file', () => {
    expect(splitFrontMatter('text\n---\nname: x\n---\n')).toBeUndefined();
    expect(splitFrontMatter('\ufeff---\nname: x\n---\nbody')).toEqual({ yaml: 'name: x', body: 'body' });
  });
});

describe('cross-file checks and loading errors', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const catalogDir = (files: Record<string, string>): string => {
    const d = mkdtempSync(join(tmpdir(), 'cco-agents-bad-'));
    dirs.push(d);
    for (const [f, t] of Object.entries(files)) writeFileSync(join(d, f), t);
    return d;
  };

  it('rejects unknown upstream agents and events nobody publishes, with suggestions', async () => {
    const dir = catalogDir({
      'a-agent.md': agentFile('a-agent', { context: 'context:\n  include: ["src/**"]\n  upstream: [b-agnet]', topics: 'topics:\n  subscribe: [thing_dnoe]\n  publish: [a_done]' }),
      'b-agent.md': agentFile('b-agent'),
    });
    const err = await loadAgentCatalog(dir, { cacheDir: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentCatalogError);
    const e = err as AgentCatalogError;
    expect(e.issues).toEqual([
      { file: 'a-agent.md', field: 'context.upstream[0]', message: 'unknown agent "b-agnet"; did you mean "b-agent"?' },
      { file: 'a-agent.md', field: 'topics.subscribe[0]', message: 'no agent publishes "thing_dnoe"; did you mean "thing_done"?' },
    ]);
    expect(e.message).toContain('2 errors in 1 of 2 files');
  });

  it('collects the problems of every file in one error, with exact counts', async () => {
    const dir = catalogDir({
      'a-agent.md': agentFile('a-agent', { model: 'model: gpt-4' }),
      'b-agent.md': agentFile('b-agent', { tools: 'tools: Raed' }),
      'c-agent.md': agentFile('c-agent'),
      'notes.txt': 'ignored',
    });
    const e = (await loadAgentCatalog(dir, { cacheDir: false }).catch((x: unknown) => x)) as AgentCatalogError;
    expect(e.issues.map((i) => `${i.file}:${i.field}`)).toEqual(['a-agent.md:model', 'b-agent.md:tools[0]']);
    expect(e.files).toBe(3);
    expect(e.message).toMatch(/^Agent catalog .* is invalid: 2 errors in 2 of 3 files\n {2}a-agent.md: model: /);
  });

  it('rejects duplicate names', () => {
    const r = parseAgentFile(agentFile('a-agent'), 'a-agent.md');
    if (!r.ok) throw new Error('fixture invalid');
    const issues = checkCatalog([
      { ...r.agent, source: '/x/a-agent.md' },
      { ...r.agent, source: '/y/a-agent.md' },
    ]);
    expect(issues).toEqual([{ file: 'a-agent.md', field: 'name', message: 'duplicate agent name "a-agent" (also in /x/a-agent.md)' }]);
  });

  it('explains a missing or empty folder', async () => {
    await expect(loadAgentCatalog(join(tmpdir(), 'cco-no-such-agents-dir'), { cacheDir: false })).rejects.toThrow(/the folder does not exist/);
    await expect(loadAgentCatalog(catalogDir({}), { cacheDir: false })).rejects.toThrow(/no agent definitions/);
  });
});
