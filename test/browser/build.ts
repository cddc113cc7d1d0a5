import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const WEB_DIST = join(ROOT, 'web', 'dist');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/**
 * The browser tests drive the built CLI and the built SPA. Rebuild either when its sources
 * are newer than its output (tsc emits even when another file has a type error).
 */
export function ensureBuilt(): void {
  if (!existsSync(CLI) || newest(join(ROOT, 'src')) > statSync(CLI).mtimeMs) {
    spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    if (!existsSync(CLI)) throw new Error('npm run build failed');
  }
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index) || newest(join(ROOT, 'web', 'src')) > statSync(index).mtimeMs) {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  }
}
