import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultAgentsDir, loadAgentCatalog, loadAgentCatalogWithReport } from './catalog.js';
import { readCatalogCache, writeCatalogCache } from './cache.js';
import { checkCatalog } from './check.js';
import { ALWAYS_PUBLISHED, extractCoordination, mcpToolName, renderCoordination } from './coordination.js';
import { AgentCatalogError } from './errors.js';
import { syncCoordination } from './sync-coordination.js';
import { globMatcher } from '../sidecar/glob.js';

/** The catalog CCO ships (the seeds' "119 Claude Orchestra agents"). */
const EXPECTED_AGENTS = 119;
/** The event types the orchestrator guide (seed 001, "Agent Coordination") publishes and waits for. */
const GUIDE_EVENTS = ['architecture_defined', 'implementation_complete', 'agent_completed', 'testing_complete'];

describe('the shipped agent catalog', async () => {
  const { catalog, report } = await loadAgentCatalogWithReport(undefined, { cacheDir: false });
  const agents = catalog.list();

  it(`loads every file and has exactly ${EXPECTED_AGENTS} agents with unique names`, () => {
    const files = readdirSync(defaultAgentsDir()).filter((f) => f.endsWith('.md'));
    expect(report.files).toBe(files.length);
    expect(report.agents).toBe(files.length);
    expect(agents).toHaveLength(EXPECTED_AGENTS);
    expect(new Set(agents.map((a) => a.name)).size).toBe(EXPECTED_AGENTS);
    expect(Object.values(report.categories).reduce((s, n) => s + n, 0)).toBe(EXPECTED_AGENTS);
  });

  it('has no cross-file problems: every upstream exists, every subscribed event is published', () => {
    expect(checkCatalog(agents)).toEqual([]);
    const names = new Set(agents.map((a) => a.name));
    const published = new Set(agents.flatMap((a) => a.topics.publish));
    for (const a of agents) {
      for (const u of a.context.upstream ?? []) expect(names.has(u), `${a.name} upstream ${u}`).toBe(true);
      for (const t of a.topics.subscribe) expect(published.has(t), `${a.name} subscribes to ${t}`).toBe(true);
    }
  });

  it('forms the seeds’ flow: architecture → implementation → tests → security → docs', () => {
    const publishers = (t: string) => agents.filter((a) => a.topics.publish.includes(t)).map((a) => a.name);
    const subscribers = (t: string) => catalog.subscribersOf(t).map((a) => a.name);
    expect(publishers('architecture_defined')).toEqual(['chief-architect']);
    expect(subscribers('architecture_defined')).toEqual(expect.arrayContaining(['python-specialist', 'api-designer', 'database-architect']));
    expect(publishers('implementation_complete')).toEqual(expect.arrayContaining(['python-specialist', 'go-specialist']));
    expect(subscribers('implementation_complete')).toEqual(expect.arrayContaining(['unit-test-engineer', 'security-auditor', 'code-reviewer']));
    expect(publishers('tests_passed')).toContain('unit-test-engineer');
    expect(publishers('tests_failed')).toContain('unit-test-engineer');
    expect(subscribers('tests_passed')).toContain('technical-writer');
    expect(subscribers('testing_complete')).toContain('security-auditor');
    expect(subscribers('tests_failed')).toContain('debugger');
    expect(subscribers('fix_applied')).toContain('unit-test-engineer');
  });

  it('carries the orchestrator guide’s flow through its own subscriptions: architecture_defined → implementation_complete → testing_complete → security audit', () => {
    // each hop: the first agent publishes the event, the next one subscribes to it
    const hop = (from: string, event: string, to: string): void => {
      expect(catalog.get(from)?.topics.publish, `${from} publishes ${event}`).toContain(event);
      expect(catalog.get(to)?.topics.subscribe, `${to} waits for ${event}`).toContain(event);
    };
    hop('chief-architect', 'architecture_defined', 'python-specialist');
    hop('python-specialist', 'implementation_complete', 'unit-test-engineer');
    hop('unit-test-engineer', 'testing_complete', 'security-auditor');
    // the guide's security auditor waits for testing_complete: its first trigger
    expect(catalog.get('security-auditor')?.topics.subscribe[0]).toBe('testing_complete');
    // the guide's agent_completed (from an implementer) reaches QA, security and documentation
    for (const to of ['unit-test-engineer', 'security-auditor', 'technical-writer']) hop('python-specialist', 'agent_completed', to);
    // every implementer and every tester speaks the guide's names, not only python-specialist / unit-test-engineer
    for (const a of agents) {
      if (a.topics.publish.includes('implementation_complete')) expect(a.topics.publish, a.name).toContain('agent_completed');
      if (a.topics.publish.includes('tests_passed')) expect(a.topics.publish, a.name).toContain('testing_complete');
    }
    // each event name the guide uses is published and waited for
    for (const t of GUIDE_EVENTS) {
      expect(agents.some((a) => a.topics.publish.includes(t)), `${t} published`).toBe(true);
      expect(catalog.subscribersOf(t).length, `${t} subscribed`).toBeGreaterThan(0);
    }
  });

  it('tells agents to publish the guide’s completion events whatever the outcome, after the outcome event', () => {
    for (const a of agents) {
      for (const t of a.topics.publish.filter((p) => ALWAYS_PUBLISHED.has(p))) expect(a.prompt, a.name).toContain(`then \`${t}\` as well, whatever the outcome`);
    }
    expect(catalog.get('unit-test-engineer')?.prompt).toContain('**Publish** the event that fits (`tests_passed`, `tests_failed`), then `testing_complete` as well');
    expect(catalog.get('python-specialist')?.prompt).toContain('**Publish** `implementation_complete`, then `agent_completed` as well');
    // only such events: published as such, at their own URL
    const only = renderCoordination({ name: 'x-agent', context: { include: ['src/**'] }, topics: { subscribe: [], publish: ['agent_completed'] } });
    expect(only).toContain('**Publish** `agent_completed`: `publish_event`');
    expect(only).toContain('`POST /api/events/agent_completed`');
    // an agent without them reads as before: one event, or the one that fits
    expect(catalog.get('security-auditor')?.prompt).toContain('**Publish** the event that fits (`security_review_complete`, `vulnerabilities_found`): ');
  });

  it('gives every agent a distinct description and prompt', () => {
    expect(new Set(agents.map((a) => a.description)).size).toBe(agents.length);
    // the role-specific part (before the shared coordination section) is distinct per agent
    const roleParts = agents.map((a) => a.prompt.split('## Working inside the CCO orchestra')[0]?.trim() ?? '');
    expect(new Set(roleParts).size).toBe(agents.length);
    for (const [i, part] of roleParts.entries()) expect(part.length, agents[i]?.name).toBeGreaterThan(600);
  });

  it('tells every agent how to coordinate: its own context URL, results, events, and the MCP tools first', () => {
    for (const a of agents) {
      expect(a.prompt, a.name).toContain(`GET /api/context/<issue>/${a.name}`);
      expect(a.prompt, a.name).toContain('POST /api/results');
      expect(a.prompt, a.name).toContain('$ORCHESTRATOR_AGENT_TOKEN');
      expect(a.prompt, a.name).toContain('$ORCHESTRATOR_SIDECAR_URL');
      expect(a.prompt, a.name).toContain(mcpToolName('get_context'));
      for (const t of a.topics.publish) expect(a.prompt, a.name).toContain(`\`${t}\``);
      const [first] = a.topics.subscribe;
      if (first) expect(a.prompt, a.name).toContain(`GET /api/events/wait/${first}?filter=topic:<issue>`);
      expect(a.tools, a.name).toContain('Bash'); // the HTTP fallback needs curl
    }
  });

  it('keeps the generated coordination section of every file in sync with its front matter', () => {
    expect(syncCoordination(defaultAgentsDir(), { write: false })).toEqual({ changed: [], invalid: [] });
    for (const f of readdirSync(defaultAgentsDir()).filter((n) => n.endsWith('.md')).slice(0, 3)) {
      const name = f.replace(/\.md$/, '');
      const agent = catalog.get(name);
      expect(agent).toBeDefined();
      expect(extractCoordination(readFileSync(join(defaultAgentsDir(), f), 'utf8'))).toContain(renderCoordination(agent!));
    }
  });

  it.each([
    ['python-specialist', 'service/api/handlers.py', '.venv/lib/python3.12/site.py'],
    ['go-specialist', 'cmd/server/main.go', 'vendor/github.com/x/y.go'],
    ['rust-specialist', 'crates/core/src/lib.rs', 'target/debug/build.rs'],
    ['react-specialist', 'src/components/Button.tsx', 'node_modules/react/index.js'],
    ['docker-specialist', 'deploy/Dockerfile.prod', 'node_modules/x/Dockerfile'],
    ['terraform-specialist', 'infra/modules/vpc/main.tf', 'infra/.terraform/modules/x.tf'],
    ['api-designer', 'api/openapi.yaml', 'node_modules/x/openapi.yaml'],
    ['django-specialist', 'shop/orders/models.py', '.venv/django/models.py'],
    ['ci-cd-engineer', '.github/workflows/ci.yml', 'node_modules/x/.github/workflows/ci.yml'],
  ])('context rules of %s select %s and skip %s (with the sidecar’s glob matcher)', (name, wanted, skipped) => {
    const a = catalog.get(name)!;
    const include = globMatcher(a.context.include);
    const exclude = globMatcher(a.context.exclude ?? []);
    expect(include(wanted) && !exclude(wanted)).toBe(true);
    expect(include(skipped) && !exclude(skipped)).toBe(false);
  });

  it('uses model tiers and categories from a small known set', () => {
    for (const a of agents) expect(['opus', 'sonnet', 'haiku']).toContain(a.model);
    expect(Object.keys(report.categories).length).toBeGreaterThanOrEqual(10);
  });
});

describe('the parsed-catalog cache', () => {
  const dirs: string[] = [];
  const temp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'cco-agents-cache-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is used on the second load and invalidated when a file changes', async () => {
    const catalogDir = temp();
    const cacheDir = temp();
    for (const f of ['chief-architect.md', 'python-specialist.md']) {
      const text = readFileSync(join(defaultAgentsDir(), f), 'utf8');
      // keep only what this pair can satisfy: no subscriptions to events nobody here publishes
      writeFileSync(join(catalogDir, f), text.replace(/subscribe: \[[^\]]*\]/, 'subscribe: []').replace(/upstream: \[[^\]]*\]/, 'upstream: []'));
    }
    const first = await loadAgentCatalogWithReport(catalogDir, { cacheDir });
    expect(first.report).toMatchObject({ files: 2, agents: 2, cached: false });
    const second = await loadAgentCatalogWithReport(catalogDir, { cacheDir });
    expect(second.report.cached).toBe(true);
    expect(second.catalog.list()).toEqual(first.catalog.list());

    // keyed on content: a same-size edit with the old mtime restored is still seen
    const file = join(catalogDir, 'python-specialist.md');
    const { atime, mtime } = statSync(file);
    writeFileSync(file, readFileSync(file, 'utf8').replace('model: sonnet', 'model: haiku '));
    utimesSync(file, atime, mtime);
    const third = await loadAgentCatalogWithReport(catalogDir, { cacheDir });
    expect(third.report.cached).toBe(false);
    expect(third.catalog.get('python-specialist')?.model).toBe('haiku');

    // a broken file is never served from a stale cache
    writeFileSync(file, readFileSync(file, 'utf8').replace('model: haiku ', 'model: gpt-4'));
    await expect(loadAgentCatalog(catalogDir, { cacheDir })).rejects.toThrow(AgentCatalogError);
  });

  it('falls through to the next cache folder when one cannot be written', () => {
    const blocker = join(temp(), 'a-file');
    writeFileSync(blocker, 'x');
    expect(writeCatalogCache(join(blocker, 'cache'), '/x', 'f', [])).toBe(false);
    const ok = temp();
    expect(writeCatalogCache(ok, '/x', 'f', [])).toBe(true);
    expect(readCatalogCache(ok, '/x', 'f')).toEqual([]);
    expect(readCatalogCache(ok, '/x', 'other-fingerprint')).toBeUndefined();
  });

  it('treats a corrupt cache file as a miss', async () => {
    const catalogDir = temp();
    const cacheDir = temp();
    writeFileSync(join(catalogDir, 'chief-architect.md'), readFileSync(join(defaultAgentsDir(), 'chief-architect.md'), 'utf8').replace(/upstream: \[[^\]]*\]/, 'upstream: []'));
    await loadAgentCatalog(catalogDir, { cacheDir });
    for (const f of readdirSync(cacheDir)) writeFileSync(join(cacheDir, f), '{not json');
    const r = await loadAgentCatalogWithReport(catalogDir, { cacheDir });
    expect(r.report).toMatchObject({ agents: 1, cached: false });
  });
});
