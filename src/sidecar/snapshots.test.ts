import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type * as Fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ProjectSnapshots } from './snapshots.js';

// The system's limit of watches reached (ENOSPC) for one folder: any folder named `nowatch/deep`.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof Fs>();
  return {
    ...real,
    watch: ((p: string, ...rest: unknown[]) => {
      if (String(p).endsWith('nowatch/deep')) throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
      return (real.watch as (...a: unknown[]) => unknown)(p, ...rest);
    }) as typeof real.watch,
  };
});

const dir = mkdtempSync(join(tmpdir(), 'cco-snapshots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=T', ...args], { cwd, stdio: 'pipe' }).toString();

function repo(name: string): string {
  const r = join(dir, name);
  mkdirSync(join(r, 'sub'), { recursive: true });
  writeFileSync(join(r, 'sub', 'a.py'), 'a = 1\n');
  git(r, 'init', '-q', '-b', 'main');
  git(r, 'add', '.');
  git(r, 'commit', '-qm', 'first');
  return r;
}

describe('project snapshots see new commits', () => {
  it.each([
    ['a subfolder of a repository', (r: string) => join(r, 'sub')],
    ['a git worktree', (r: string) => {
      git(r, 'worktree', 'add', '-q', '-b', 'side', join(dir, 'wt-of-' + r.split('/').pop()));
      return join(dir, 'wt-of-' + r.split('/').pop());
    }],
  ])('in %s', async (_name, rootOf) => {
    const r = repo(`repo-${Math.random().toString(36).slice(2, 8)}`);
    const root = rootOf(r);
    const snaps = new ProjectSnapshots();
    try {
      expect((await snaps.get(root)).git.commits.map((c) => c.subject)).toEqual(['first']);
      // a commit that changes no file of the project: only the repository's folders change
      git(root, 'commit', '-q', '--allow-empty', '-m', 'second');
      await expect.poll(async () => (await snaps.get(root)).git.commits[0]?.subject, { timeout: 3000 }).toBe('second');
    } finally {
      snaps.close();
    }
  });
});

describe('project snapshots when a folder cannot be watched', () => {
  it('count it as unwatched: the snapshot expires after maxAgeMs and sees the change', async () => {
    const root = join(dir, 'nowatch');
    mkdirSync(join(root, 'deep'), { recursive: true });
    writeFileSync(join(root, 'deep', 'a.py'), 'a = 1\n');
    const snaps = new ProjectSnapshots({ maxAgeMs: 200 });
    try {
      const first = await snaps.get(root);
      expect(first.fullyWatched).toBe(false);
      writeFileSync(join(root, 'deep', 'b.py'), 'b = 2\n');
      await new Promise((r) => setTimeout(r, 300));
      expect((await snaps.get(root)).scan.files.map((f) => f.path)).toContain('deep/b.py');
    } finally {
      snaps.close();
    }
  });
});

describe('project snapshots of many roots', () => {
  it('keep at most maxRoots, the least recently asked for dropped first (with its watchers), and a dropped root is scanned again when asked for', async () => {
    const roots = ['r1', 'r2', 'r3', 'r4'].map((n) => {
      const r = join(dir, 'many', n);
      mkdirSync(r, { recursive: true });
      writeFileSync(join(r, 'main.py'), `print("${n}")\n`);
      return r;
    });
    const snaps = new ProjectSnapshots({ maxRoots: 2 });
    const dropped: string[] = [];
    snaps.onChange((r) => dropped.push(r));
    try {
      const first = await snaps.get(roots[0] as string);
      await snaps.get(roots[1] as string);
      // asked for again: now the most recent
      await snaps.get(roots[0] as string);
      await snaps.get(roots[2] as string);
      expect(dropped).toEqual([roots[1]]);
      expect(snaps.size).toBe(2);
      await snaps.get(roots[3] as string);
      expect(dropped).toEqual([roots[1], roots[0]]);
      expect(snaps.size).toBe(2);
      const again = await snaps.get(roots[0] as string);
      expect(again).not.toBe(first);
      expect(again.scan.files.map((f) => f.path)).toEqual(['main.py']);
    } finally {
      snaps.close();
    }
  });
});
