import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');

/**
 * Builds dist/ once before the test files run (the e2e tests drive the real built CLI).
 * tsc emits even when some file has a type error; `npm test` type-checks separately, so a
 * type error fails the run there, not here.
 */
export default function setup(): void {
  if (process.env.CCO_SKIP_BUILD === '1' && existsSync(join(ROOT, 'dist', 'cco', 'main.js'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
  // The shipped CLI is the esbuild bundle of dist/cli (package.json "bin").
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`bundle failed:\n${b.stdout}\n${b.stderr}`);
  // As `npm run build` does: the daemon's code cache seeded beside the bundle.
  const c = spawnSync(process.execPath, [join(ROOT, 'scripts', 'seed-code-cache.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`seeding the code cache failed:\n${c.stdout}\n${c.stderr}`);
}
