import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppError } from '../core/errors.js';
import { ProjectRoots } from './roots.js';
import { call, startSidecarWorld } from './test-world.js';

const dir = mkdtempSync(join(tmpdir(), 'cco-roots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const statusOf = (roots: ProjectRoots, path: string): number => {
  try {
    roots.resolve(path);
    return 200;
  } catch (e) {
    return (e as AppError).status;
  }
};

describe('ProjectRoots', () => {
  it('a root reached through a symlink: a missing folder under it is "does not exist" (400), not "outside" (403)', () => {
    mkdirSync(join(dir, 'real', 'proj', 'src'), { recursive: true });
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    const roots = new ProjectRoots(join(dir, 'link', 'proj'), []);
    expect(statusOf(roots, join(dir, 'link', 'proj', 'src'))).toBe(200);
    expect(statusOf(roots, join(dir, 'link', 'proj', 'typo'))).toBe(400);
    expect(statusOf(roots, join(dir, 'real', 'proj', 'typo'))).toBe(400);
    // outside, existing or not: the same 403
    expect(statusOf(roots, join(dir, 'link', 'other'))).toBe(403);
    expect(statusOf(roots, join(dir, 'real'))).toBe(403);
  });
});

describe('GET /api/context ?root= (real sidecar)', () => {
  it('a file inside the project is no root: 400 naming query.root, "not a directory" (was a 200 empty context)', async () => {
    const w = await startSidecarWorld();
    try {
      writeFileSync(join(w.projectRoot, 'app.py'), 'print(1)\n');
      mkdirSync(join(w.projectRoot, 'pkg'), { recursive: true });
      const tok = await w.token('python-specialist', '*');
      const get = (root: string) => call<{ error: { code: string; message: string; field?: string } }>('GET', `${w.sidecarUrl}/api/context/issue-1/python-specialist?root=${encodeURIComponent(root)}`, { token: tok });
      const r = await get(join(w.projectRoot, 'app.py'));
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_request', field: 'query.root' });
      expect(r.body.error.message).toMatch(/is not a directory/);
      // a folder inside the project still answers
      expect((await get(join(w.projectRoot, 'pkg'))).status).toBe(200);
      // a symlink inside the project to a file is a file too
      symlinkSync(join(w.projectRoot, 'app.py'), join(w.projectRoot, 'link.py'));
      expect((await get(join(w.projectRoot, 'link.py'))).status).toBe(400);
    } finally {
      await w.close();
    }
  });
});
