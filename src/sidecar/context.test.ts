import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { AgentsRepo } from './agents-repo.js';
import { ContextBuilder } from './context.js';
import { Knowledge } from './knowledge.js';
import { ResultsRepo } from './results.js';
import { ProjectSnapshots } from './snapshots.js';
import { agentDef } from './test-world.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// Long enough that two gets in a row fall within it on a loaded machine, short enough to wait out.
const RELATED_TTL_MS = 300;

/** A builder over a fresh store and a temp project folder (`files` written into it); `close` removes it all. */
async function contextWorld(name: string, opts: { maxBytes?: number; defaultFileBytes?: number; snapshots?: ProjectSnapshots; files?: Record<string, string> } = {}) {
  const t = await openTestStore('sqlite');
  const dir = mkdtempSync(join(tmpdir(), `cco-context-${name}-`));
  const root = join(dir, 'project');
  mkdirSync(root, { recursive: true });
  for (const [f, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), text);
  }
  const snapshots = opts.snapshots ?? new ProjectSnapshots();
  const knowledge = new Knowledge(t.store);
  const results = new ResultsRepo(t.store, join(dir, 'results'), knowledge);
  const ctx = new ContextBuilder({ snapshots, results, knowledge, agents: new AgentsRepo(t.store) }, { maxBytes: opts.maxBytes ?? 64 * 1024, defaultFileBytes: opts.defaultFileBytes ?? 8 * 1024, relatedTtlMs: 150 });
  return {
    ctx,
    results,
    root,
    async close() {
      snapshots.close();
      await results.close();
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('ContextBuilder past the related-knowledge time', () => {
  let t: TestStore;
  let dir: string;
  let snapshots: ProjectSnapshots;
  let results: ResultsRepo;
  let agents: AgentsRepo;
  let ctx: ContextBuilder;
  const agent = agentDef('python-specialist', { context: { include: ['**/*.py'] } });

  beforeAll(async () => {
    t = await openTestStore('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'cco-context-'));
    mkdirSync(join(dir, 'project', 'src'), { recursive: true });
    writeFileSync(join(dir, 'project', 'src', 'refund.py'), 'def refund():\n    return "refund"\n');
    snapshots = new ProjectSnapshots();
    const knowledge = new Knowledge(t.store);
    results = new ResultsRepo(t.store, join(dir, 'results'), knowledge);
    agents = new AgentsRepo(t.store);
    ctx = new ContextBuilder({ snapshots, results, knowledge, agents }, { maxBytes: 64 * 1024, defaultFileBytes: 8 * 1024, relatedTtlMs: RELATED_TTL_MS });
  });
  afterAll(async () => {
    snapshots.close();
    await results.close();
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (issueId: string) => ctx.get({ root: join(dir, 'project'), issueId, agent, q: 'refund', issues: '*' });
  const parse = (b: Buffer) => JSON.parse(b.toString()) as { generated_at: string; related_knowledge: { content: string }[]; issue: { text: string }; budget: { used_bytes: number } };

  it('serves the same context with a new generated_at when what it was built from is unchanged', async () => {
    const first = await get('i-1');
    expect(first.hit).toBe(false);
    expect((await get('i-1')).hit).toBe(true);
    await sleep(RELATED_TTL_MS + 20);
    const render = vi.spyOn(ctx as unknown as { render(): unknown }, 'render');
    const again = await get('i-1');
    expect(again.hit).toBe(false);
    // no second rendering of the JSON
    expect(render).not.toHaveBeenCalled();
    render.mockRestore();
    const a = parse(first.json);
    const b = parse(again.json);
    expect(Date.parse(b.generated_at)).toBeGreaterThan(Date.parse(a.generated_at));
    expect({ ...b, generated_at: a.generated_at }).toEqual(a);
    expect(b.budget.used_bytes).toBe(again.json.length);
    // the cached bytes were not written over
    expect(parse(first.json).generated_at).toBe(a.generated_at);
  });

  it('rebuilds when related knowledge from another issue or a spawned agent’s task changed meanwhile', async () => {
    await get('i-2');
    await results.save({ agent_id: 'a-1', agent_type: 'chief-architect', issue_id: 'other-issue', result: { status: 'success', decisions: ['Every refund is logged'] } });
    await sleep(RELATED_TTL_MS + 20);
    const render = vi.spyOn(ctx as unknown as { render(): unknown }, 'render');
    expect(parse((await get('i-2')).json).related_knowledge.map((k) => k.content)).toContain('Every refund is logged');
    await agents.register({ agentId: 'spawned-1', agentType: 'python-specialist', issues: ['i-2'], exp: Date.now() / 1000 + 60 }, 'handle partial chargebacks');
    await sleep(RELATED_TTL_MS + 20);
    expect(parse((await get('i-2')).json).issue.text).toContain('handle partial chargebacks');
    expect(render).toHaveBeenCalledTimes(2);
    render.mockRestore();
  });
});

describe('ContextBuilder on a project with more folders than watchers', () => {
  it('shows changed and new files once the unwatched snapshot expires', async () => {
    // two watchers for five folders: changes under some folders go unseen until the snapshot expires
    const w = await contextWorld('big', { snapshots: new ProjectSnapshots({ maxWatchers: 2, maxAgeMs: 150 }), files: Object.fromEntries(['a', 'b', 'c', 'd'].map((d) => [`${d}/m.py`, `# ${d} v1\n`])) });
    const agent = agentDef('python-specialist', { context: { include: ['**/*.py'] } });
    const files = async () =>
      Object.fromEntries((JSON.parse((await w.ctx.get({ root: w.root, issueId: 'i-big', agent, issues: '*' })).json.toString()) as { relevant_files: { path: string; content: string }[] }).relevant_files.map((f) => [f.path, f.content.trim()]));
    try {
      expect((await files())['d/m.py']).toBe('# d v1');
      writeFileSync(join(w.root, 'd', 'm.py'), '# d v2\n');
      writeFileSync(join(w.root, 'd', 'new.py'), '# new\n');
      await sleep(400);
      const now = await files();
      expect(now['d/m.py']).toBe('# d v2');
      expect(now['d/new.py']).toBe('# new');
    } finally {
      await w.close();
    }
  });
});

describe('ContextBuilder within its byte budget', () => {
  it('drops decisions past max_bytes, other agent types’ oldest first, the upstream types’ last', async () => {
    const maxBytes = 48 * 1024;
    const w = await contextWorld('budget', { maxBytes });
    const agent = agentDef('python-specialist', { context: { include: ['**/*.py'], upstream: ['chief-architect'] } });
    const decisions = (who: string, n: number) => Array.from({ length: n }, (_x, i) => `${who} decision ${i} ${'x'.repeat(1000)}`);
    try {
      await w.results.save({ agent_id: 'arch-1', agent_type: 'chief-architect', issue_id: 'i-budget', result: { status: 'success', decisions: decisions('arch', 10) } });
      await w.results.save({ agent_id: 'tester-1', agent_type: 'test-engineer', issue_id: 'i-budget', result: { status: 'success', decisions: decisions('tester', 80) } });
      const { json } = await w.ctx.get({ root: w.root, issueId: 'i-budget', agent, issues: '*' });
      const c = JSON.parse(json.toString()) as { decisions: { agent_type: string; decision: string }[]; budget: { used_bytes: number; decisions_omitted: number } };
      expect(json.length).toBeLessThanOrEqual(maxBytes);
      expect(c.budget.used_bytes).toBe(json.length);
      expect(c.budget.decisions_omitted).toBeGreaterThan(0);
      expect(c.decisions.length + c.budget.decisions_omitted).toBe(90);
      // every upstream decision stays; the tester's newest are kept
      expect(c.decisions.filter((d) => d.agent_type === 'chief-architect')).toHaveLength(10);
      expect(c.decisions.at(-1)?.decision).toMatch(/^tester decision 79 /);
    } finally {
      await w.close();
    }
  });
});

describe('ContextBuilder within its byte budget, whatever the issue text', () => {
  it('clips a query of control characters (6 bytes each in JSON) to stay within max_bytes', async () => {
    const maxBytes = 32 * 1024;
    const w = await contextWorld('budget-text', { maxBytes });
    const agent = agentDef('python-specialist', { context: { include: ['**/*.py'] } });
    try {
      const q = '\u0001'.repeat(4000) + ' payments '.repeat(2000);
      const { json } = await w.ctx.get({ root: w.root, issueId: 'i-text', agent, issues: '*', q });
      const c = JSON.parse(json.toString()) as { issue: { text: string }; budget: { used_bytes: number } };
      // was: 3 × the budget, used_bytes saying so
      expect(json.length).toBeLessThanOrEqual(maxBytes);
      expect(c.budget.used_bytes).toBe(json.length);
      expect(c.issue.text.endsWith('…')).toBe(true);
    } finally {
      await w.close();
    }
  });
});

describe('ContextBuilder file contents', () => {
  it('cuts a file at its budget without splitting a character', async () => {
    const w = await contextWorld('cut', { defaultFileBytes: 1001, files: { 'emoji.py': '🎉'.repeat(1000) } });
    try {
      const { json } = await w.ctx.get({ root: w.root, issueId: 'i-cut', agent: agentDef('python-specialist', { context: { include: ['**/*.py'] } }), issues: '*' });
      const f = (JSON.parse(json.toString()) as { relevant_files: { content: string; truncated: boolean }[] }).relevant_files[0];
      expect(f?.truncated).toBe(true);
      const content = f?.content ?? '';
      expect(content.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(content)).toBeLessThanOrEqual(1001);
      // whole emoji only: the text round-trips through UTF-8 unchanged
      expect(Buffer.from(content, 'utf8').toString('utf8')).toBe(content);
      expect(content).toBe('🎉'.repeat(content.length / 2));
    } finally {
      await w.close();
    }
  });
});

describe('ContextBuilder and credentials', () => {
  it('never puts the contents of credential files in a context, and masks keys pasted into ordinary files', async () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretkeymaterial\n-----END RSA PRIVATE KEY-----\n';
    const files = {
      '.env': 'ANTHROPIC_API_KEY=sk-ant-api03-SECRETSECRETSECRET\nDB_PASSWORD=hunter2\n',
      '.env.production': 'PASSWORD=hunter3\n',
      '.env.example': 'ANTHROPIC_API_KEY=\n',
      'deploy.pem': pem,
      '.ssh/id_ed25519': '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
      'config/secrets.yaml': 'stripe: sk_live_CONFIGSECRETCONFIGSECRET\n',
      'config/gcp-credentials.json': '{"private_key": "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----"}',
      'src/settings.py': `AWS_KEY = "AKIAIOSFODNN7EXAMPLE"\nTOKEN = "ghp_${'a'.repeat(36)}"\nKEY = '''${pem}'''\n`,
    };
    const w = await contextWorld('secrets', { files, defaultFileBytes: 64 * 1024 });
    try {
      const { json } = await w.ctx.get({ root: w.root, issueId: 'i-sec', agent: agentDef('secrets-scanner', { context: { include: ['**/*', '.env*', '**/*.pem'] } }), issues: '*', q: 'scan env files pem ssh keys credentials secrets password' });
      const text = json.toString();
      const ctx = JSON.parse(text) as { relevant_files: { path: string; content: string }[]; structure: { paths: string[] } };
      for (const secret of ['sk-ant-api03-SECRET', 'hunter2', 'hunter3', 'secretkeymaterial', 'b3BlbnNzaC1rZXktdjEAAAAA', 'sk_live_CONFIG', 'AKIAIOSFODNN7EXAMPLE', 'ghp_aaaa']) expect(text, secret).not.toContain(secret);
      // listed, so an agent knows they exist; the example of a configuration keeps its content
      expect(ctx.structure.paths).toEqual(expect.arrayContaining(['.env', 'deploy.pem', 'config/secrets.yaml']));
      expect(ctx.relevant_files.map((f) => f.path).sort()).toEqual(['.env.example', 'src/settings.py']);
      expect(ctx.relevant_files.find((f) => f.path === 'src/settings.py')?.content).toContain('-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----');
    } finally {
      await w.close();
    }
  });
});

describe('ContextBuilder and what earlier agents changed', () => {
  it('puts the files earlier agents of the issue created or changed first, even outside the role\'s include rules', async () => {
    const files: Record<string, string> = { 'src/queue.py': 'def push(): pass\n', 'docs/notes.md': '# notes\n' };
    for (let i = 0; i < 30; i++) files[`src/ledger_${i}.py`] = `def ledger_${i}(): return "ledger ledger ledger"\n`;
    const w = await contextWorld('changed', { files });
    try {
      await w.results.save({ agent_id: 'py-1', agent_type: 'python-specialist', issue_id: 'i-ch', result: { status: 'success', summary: 'done', files_modified: ['src/queue.py', `${w.root}/docs/notes.md`], files_created: ['src/missing.py'] } });
      const { json } = await w.ctx.get({ root: w.root, issueId: 'i-ch', agent: agentDef('security-auditor', { context: { include: ['**/*.py'] } }), issues: '*', q: 'ledger' });
      const paths = (JSON.parse(json.toString()) as { relevant_files: { path: string }[] }).relevant_files.map((f) => f.path);
      expect(paths.slice(0, 2)).toEqual(['src/queue.py', 'docs/notes.md']);
      expect(paths.slice(2).every((p) => p.startsWith('src/ledger_'))).toBe(true);
      // the role's exclude rules still hold (the names come from agents)
      const { json: excluded } = await w.ctx.get({ root: w.root, issueId: 'i-ch', agent: agentDef('privacy-engineer', { context: { include: ['**/*.py'], exclude: ['docs/**'] } }), issues: '*', q: 'ledger' });
      expect((JSON.parse(excluded.toString()) as { relevant_files: { path: string }[] }).relevant_files.map((f) => f.path)).not.toContain('docs/notes.md');
    } finally {
      await w.close();
    }
  });
});

describe('ContextBuilder structure of a project with one huge folder', () => {
  it('gives every top-level folder its share of the structure list, and counts files per folder', async () => {
    const files: Record<string, string> = { 'README.md': '# app\n', 'src/app.py': 'x = 1\n', 'src/db.py': 'y = 2\n', 'tests/test_app.py': 'def test(): pass\n' };
    for (let i = 0; i < 3000; i++) files[`gen/generated_module_with_a_long_name_${i}.py`] = '';
    const w = await contextWorld('crowded', { files, maxBytes: 16 * 1024 });
    try {
      const { json } = await w.ctx.get({ root: w.root, issueId: 'i-crowd', agent: agentDef('python-specialist', { context: { include: ['README.md'] } }), issues: '*' });
      const s = (JSON.parse(json.toString()) as { structure: { folders: Record<string, number>; paths: string[]; truncated: boolean } }).structure;
      expect(s.truncated).toBe(true);
      expect(s.folders).toEqual({ '.': 1, src: 2, tests: 1, gen: 3000 });
      expect(s.paths).toEqual(expect.arrayContaining(['README.md', 'src/app.py', 'src/db.py', 'tests/test_app.py']));
    } finally {
      await w.close();
    }
  });
});

describe('ContextBuilder ranking by the role', () => {
  it("ranks what the role's own rules name above what its catch-alls allow", async () => {
    const files: Record<string, string> = { 'src/zz_redis_client.py': 'import redis\n' };
    for (let i = 0; i < 10; i++) files[`src/feature_${i}.py`] = `def feature_${i}(): pass\n`;
    const w = await contextWorld('role', { files });
    try {
      const paths = async (name: string, include: string[]) => {
        const { json } = await w.ctx.get({ root: w.root, issueId: 'i-role', agent: agentDef(name, { context: { include } }), issues: '*' });
        return (JSON.parse(json.toString()) as { relevant_files: { path: string }[] }).relevant_files.map((f) => f.path);
      };
      expect((await paths('redis-specialist', ['**/*redis*', 'src/**']))[0]).toBe('src/zz_redis_client.py');
      // the same files for a role whose rules are all catch-alls: no file is its own
      expect(await paths('typescript-specialist', ['src/**'])).toHaveLength(11);
    } finally {
      await w.close();
    }
  });
});
