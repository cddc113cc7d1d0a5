import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** What users run (package.json "bin"): the esbuild bundle of dist/cli, the daemon as daemon.cjs. */
export const BUNDLED_CLI = join(ROOT, 'dist', 'cco', 'main.js');
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

/** Runs a node script to completion without blocking the test worker's event loop. */
function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

/**
 * The browser tests drive the built CLI, its bundle and the built SPA. Rebuild each when its
 * sources are newer than its output (tsc emits even when another file has a type error).
 */
export async function ensureBuilt(): Promise<void> {
  if (!existsSync(CLI) || newest(join(ROOT, 'src')) > statSync(CLI).mtimeMs) {
    const r = await run([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
    if (!existsSync(CLI)) throw new Error(`npm run build failed:\n${r.out}`);
  }
  if (!existsSync(BUNDLED_CLI) || statSync(CLI).mtimeMs > statSync(BUNDLED_CLI).mtimeMs) {
    const r = await run([join(ROOT, 'scripts', 'bundle.mjs')]);
    if (r.code !== 0) throw new Error(`bundling the CLI failed:\n${r.out}`);
  }
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index) || newest(join(ROOT, 'web', 'src')) > statSync(index).mtimeMs) {
    const r = await run([join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
    if (r.code !== 0) throw new Error(`vite build failed:\n${r.out}`);
  }
}
