import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import { agentDef, call, startSidecarWorld } from './test-world.js';
import type { SidecarWorld } from './test-world.js';

interface Ctx {
  issue_id: string;
  agent_type: string;
  project: { name: string; version: string; total_files: number; languages: { extension: string }[]; git_branch: string | null };
  structure: { paths: string[]; truncated: boolean };
  relevant_files: { path: string; content: string; score: number; truncated: boolean }[];
  more_relevant_files: string[];
  previous_results: { agent_type: string; decisions: string[] }[];
  decisions: { agent_type: string; decision: string }[];
  related_knowledge: { issue_id: string; content: string }[];
  git: { recent_commits: { subject: string }[] };
  budget: { max_bytes: number; used_bytes: number; file_bytes_max: number; file_bytes_used: number };
}

function write(root: string, files: Record<string, string>): void {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), c);
  }
}

const until = async (fn: () => Promise<boolean>, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
};

describe('sidecar context (real HTTP, real project on disk)', () => {
  let w: SidecarWorld;
  let root: string;
  let other: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cco-proj-'));
    other = mkdtempSync(join(tmpdir(), 'cco-other-'));
    write(root, {
      'package.json': JSON.stringify({ name: 'shop-api', version: '2.3.4', description: 'A shop' }),
      '.gitignore': 'secret.env\nbuild/\n*.log\n',
      'README.md': '# Shop\nPayments and invoices.\n',
      'src/payments/refund.py': 'def refund(payment):\n    """Refund a payment via the payment gateway."""\n    return gateway.refund(payment.id)\n',
      'src/payments/charge.py': 'def charge(card):\n    return gateway.charge(card)\n',
      'src/users/login.py': 'def login(user):\n    return session(user)\n',
      // a folder's .gitignore re-includes what the root's ignores (git: the deepest match wins)
      'src/users/.gitignore': 'cache/\n!keep.log\n',
      'src/users/keep.log': 'kept',
      'src/users/drop.log': 'dropped',
      'src/users/cache/x.py': 'cached = True\n',
      'tests/test_refund.py': 'def test_refund():\n    assert refund(p)\n',
      'secret.env': 'TOKEN=abc',
      'build/out.py': 'generated = 1\n',
      'debug.log': 'log',
      'big.py': `# refund refund\n${'x = 1\n'.repeat(40_000)}`,
    });
    // links that lead out of the project are never followed
    symlinkSync(other, join(root, 'outside-dir'));
    symlinkSync('/etc/hostname', join(root, 'outside-file.py'));
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: root });
    execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=Tess', 'add', '.'], { cwd: root });
    execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=Tess', 'commit', '-qm', 'Add refund support'], { cwd: root });
    const catalog = catalogOf([
      agentDef('python-specialist', { context: { include: ['**/*.py'], exclude: ['tests/**'], upstream: ['chief-architect'], max_bytes: 4096 } }),
      agentDef('chief-architect', { context: { include: ['**/*.md'] } }),
    ]);
    w = await startSidecarWorld({ catalog, projectRoot: root, config: (c) => ({ ...c, sidecar: { ...c.sidecar, allowed_roots: [other] } }) });
  });
  afterAll(async () => {
    await w.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  });

  it('gives structure (gitignore respected), ranked relevant files, git history and metadata within the budget', async () => {
    const tok = await w.token('python-specialist', ['refund-bug']);
    const r = await call<Ctx>('GET', `${w.sidecarUrl}/api/context/refund-bug/python-specialist?q=${encodeURIComponent('Refund fails for a partial payment')}`, { token: tok });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cco-context-cache')).toBe('miss');
    const c = r.body;
    expect(c.issue_id).toBe('refund-bug');
    expect(c.project).toMatchObject({ name: 'shop-api', version: '2.3.4', git_branch: 'main' });
    expect(c.structure.paths).toEqual(expect.arrayContaining(['README.md', 'src/payments/refund.py', 'src/users/login.py', 'tests/test_refund.py', 'src/users/keep.log']));
    for (const ignored of ['secret.env', 'build/out.py', 'debug.log', 'src/users/drop.log', 'src/users/cache/x.py', 'outside-file.py']) expect(c.structure.paths).not.toContain(ignored);
    // what git itself tracks of the logs
    expect(execFileSync('git', ['ls-files', '*.log'], { cwd: root, encoding: 'utf8' }).trim()).toBe('src/users/keep.log');
    expect(c.structure.paths.some((p) => p.startsWith('outside-dir'))).toBe(false);
    expect(c.structure.paths.some((p) => p.startsWith('.git/'))).toBe(false);
    // only the agent's files (py, not tests/), refund first
    const paths = [...c.relevant_files.map((f) => f.path), ...c.more_relevant_files];
    expect(paths[0]).toBe('src/payments/refund.py');
    expect(paths).not.toContain('README.md');
    expect(paths).not.toContain('tests/test_refund.py');
    expect(paths.indexOf('src/payments/charge.py')).toBeGreaterThan(0);
    expect(c.relevant_files[0]?.content).toContain('def refund');
    expect(c.budget.file_bytes_max).toBe(4096);
    expect(c.budget.file_bytes_used).toBeLessThanOrEqual(4096);
    expect(c.budget.used_bytes).toBe(Buffer.byteLength(JSON.stringify(r.body)));
    expect(c.budget.used_bytes).toBeLessThanOrEqual(c.budget.max_bytes);
    expect(c.git.recent_commits[0]?.subject).toBe('Add refund support');
  });

  it('includes previous decisions for the issue (upstream first) and related knowledge from other issues', async () => {
    const arch = await w.token('chief-architect', '*');
    await call('POST', `${w.sidecarUrl}/api/results`, { token: arch, body: { agent_id: 'arch-1', agent_type: 'chief-architect', issue_id: 'refund-bug', result: { status: 'success', decisions: ['Refunds go through the gateway adapter'] } } });
    await call('POST', `${w.sidecarUrl}/api/results`, { token: arch, body: { agent_id: 'arch-0', agent_type: 'chief-architect', issue_id: 'older-issue', result: { status: 'success', decisions: ['Partial refund amounts are stored in cents'] } } });
    const tok = await w.token('python-specialist', '*');
    const r = await call<Ctx>('GET', `${w.sidecarUrl}/api/context/refund-bug/python-specialist?q=partial+refund`, { token: tok });
    expect(r.body.previous_results[0]?.agent_type).toBe('chief-architect');
    expect(r.body.decisions).toContainEqual({ agent_type: 'chief-architect', agent_id: 'arch-1', decision: 'Refunds go through the gateway adapter' });
    expect(r.body.related_knowledge.map((k) => k.issue_id)).toContain('older-issue');
    expect(r.body.related_knowledge.map((k) => k.issue_id)).not.toContain('refund-bug');
  });

  it('serves from cache, and invalidates when a file changes or a result is stored', async () => {
    const tok = await w.token('python-specialist', ['cache-issue']);
    const url = `${w.sidecarUrl}/api/context/cache-issue/python-specialist?q=refund`;
    await call('GET', url, { token: tok });
    const hit = await call<Ctx>('GET', url, { token: tok });
    expect(hit.headers.get('x-cco-context-cache')).toBe('hit');
    const status = await call<Record<string, Record<string, number>>>('GET', `${w.sidecarUrl}/status`);
    expect(status.body.storage?.context_cache_entries).toBeGreaterThan(0);

    write(root, { 'src/payments/refund_v2.py': 'def refund_v2():\n    return "refund refund refund"\n' });
    await until(async () => {
      const r = await call<Ctx>('GET', url, { token: tok });
      return r.body.structure.paths.includes('src/payments/refund_v2.py');
    });
    const fresh = await call<Ctx>('GET', url, { token: tok });
    expect(fresh.headers.get('x-cco-context-cache')).toBe('hit');
    write(root, { 'src/payments/refund_v2.py': 'def refund_v2():\n    return "changed content marker"\n' });
    await until(async () => {
      const r = await call<Ctx>('GET', url, { token: tok });
      return r.body.relevant_files.some((f) => f.content.includes('changed content marker'));
    });

    await call('POST', `${w.sidecarUrl}/api/results`, { token: tok, body: { agent_id: 'ps-c', agent_type: 'python-specialist', issue_id: 'cache-issue', result: { status: 'partial', decisions: ['Retry refunds twice'] } } });
    const after = await call<Ctx>('GET', url, { token: tok });
    expect(after.headers.get('x-cco-context-cache')).toBe('miss');
    expect(after.body.decisions.map((d) => d.decision)).toContain('Retry refunds twice');
  });

  it('takes ?root= only under an allowed root', async () => {
    write(other, { 'pkg/mod.py': 'def other():\n    pass\n' });
    const tok = await w.token('python-specialist', '*');
    const ok = await call<Ctx>('GET', `${w.sidecarUrl}/api/context/i-1/python-specialist?root=${encodeURIComponent(join(other, 'pkg'))}`, { token: tok });
    expect(ok.status).toBe(200);
    expect(ok.body.structure.paths).toEqual(['mod.py']);
    for (const [root2, status] of [
      ['/etc', 403],
      [join(root, '..'), 403],
      [`${root}/../../`, 403],
      ['relative/path', 400],
      [join(root, 'nope'), 400],
      // outside the roots, a folder that does not exist answers as one that does: no probing
      ['/no/such/folder/anywhere', 403],
      [join(root, '..', 'nope-next-to-the-project'), 403],
    ] as const) {
      const r = await call('GET', `${w.sidecarUrl}/api/context/i-1/python-specialist?root=${encodeURIComponent(root2)}`, { token: tok });
      expect(r.status, root2).toBe(status);
    }
  });
});
