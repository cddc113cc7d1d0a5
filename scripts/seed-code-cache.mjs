// Seeds the daemon's V8 code cache at build time, so that even the first `cco run` after
// install loads compiled code (src/cli/code-cache.ts): starts the bundled daemon once in a
// throwaway home on a free port, waits for it to save its cache, stops it, and keeps the cache
// as dist/cco/daemon.cjs.v8cache. Best effort: a build never fails because of it.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const bundle = 'dist/cco/daemon.cjs';
const seed = `${bundle}.v8cache`;
const root = mkdtempSync(join(tmpdir(), 'cco-seed-'));
const env = { ...process.env, CCO_HOME: join(root, 'home'), CCO_CONFIG_DIR: join(root, 'config'), CCO_TMPDIR: join(root, 'tmp'), CCO_RUNTIME_DIR: join(root, 'run'), CCO_LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '', CCO_NO_SEED_CACHE: '1' };
const cacheDir = join(root, 'home', 'cache');
const child = spawn(process.execPath, ['dist/cco/main.js', 'run', '--port', '0'], { env, stdio: 'ignore' });
let ok = false;
try {
  rmSync(seed, { force: true });
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    const found = existsSync(cacheDir) ? readdirSync(cacheDir).find((f) => f.endsWith('.v8cache')) : undefined;
    if (found) {
      // Saved atomically (rename), so a listed file is complete.
      copyFileSync(join(cacheDir, found), seed);
      chmodSync(seed, 0o644); // readable by every user of a shared install
      ok = true;
      break;
    }
    await sleep(50);
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  rmSync(root, { recursive: true, force: true });
}
if (!ok) console.warn('note: could not seed the daemon code cache; the first start will compile and save it');
