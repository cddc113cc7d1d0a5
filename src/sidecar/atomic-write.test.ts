import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomicAsync } from './atomic-write.js';

describe('writeFileAtomicAsync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cco-atomic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates folders, writes 0600, replaces whole and leaves no temp files', async () => {
    const f = join(dir, 'a', 'b', 'x.json');
    await writeFileAtomicAsync(f, '{"v":1}');
    expect(readFileSync(f, 'utf8')).toBe('{"v":1}');
    expect(statSync(f).mode & 0o777).toBe(0o600);
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomicAsync(f, JSON.stringify({ v: i, pad: 'x'.repeat(10_000) }))));
    expect(() => JSON.parse(readFileSync(f, 'utf8'))).not.toThrow();
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['x.json']);
  });

  it('fails (and cleans up) when the folder cannot be created', async () => {
    const blocker = join(dir, 'file');
    await writeFileAtomicAsync(blocker, 'x');
    await expect(writeFileAtomicAsync(join(blocker, 'sub', 'y.json'), 'y')).rejects.toThrow();
    expect(existsSync(join(blocker, 'sub'))).toBe(false);
  });
});
