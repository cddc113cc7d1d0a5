import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanProject } from './project-scan.js';
import { isSecretFile } from './secret-files.js';

const root = mkdtempSync(join(tmpdir(), 'cco-scan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a project that holds CCO's own home (a daemon started in ~ with ~/.cco)", () => {
  it('leaves the home, runtime and config folders out of the scan, and their key files are secret by name', async () => {
    for (const [f, text] of [
      ['src/app.ts', 'export const x = 1;'],
      ['.cco/jwt-secret', 'SECRET-JWT'],
      ['.cco/run/access-token', 'SECRET-TOKEN'],
      ['.config/cco/daemon.toml', '[daemon]'],
    ] as const) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), text);
    }
    const scan = await scanProject(root, { skipDirs: [join(root, '.cco'), join(root, '.cco', 'run'), join(root, '.config', 'cco')] });
    expect(scan.files.map((f) => f.path).sort()).toEqual(['src/app.ts']);
    for (const name of ['access-token', 'jwt-secret', 'jwt-refresh-secret', 'sealing.key', 'sidecar-jwt.key']) expect(isSecretFile(`.cco/${name}`), name).toBe(true);
  });
});
