import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppError } from '../core/errors.js';
import { ProjectRoots } from './roots.js';

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
