import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cliWorld, ensureBuilt, portFrom } from './harness.js';

beforeAll(() => ensureBuilt(), 120_000);

/** How the daemon's code was loaded, from its debug log ("code loaded"). */
function codeCacheStates(logDir: string): string[] {
  const states: string[] = [];
  for (const f of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, f), 'utf8').split('\n')) {
      if (line.includes('"code loaded"')) states.push((JSON.parse(line) as { codeCache: string }).codeCache);
    }
  }
  return states;
}

async function waitFor<T>(f: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('daemon code cache (real bundled CLI, temp home)', () => {
  // Own-cache behaviour first: the cache the build seeds beside the bundle is ignored here.
  const w = cliWorld({ CCO_LOG_LEVEL: 'debug', CCO_NO_SEED_CACHE: '1' });
  const cacheDir = join(w.env.CCO_HOME as string, 'cache');
  const logDir = join(w.env.CCO_HOME as string, 'logs');
  const cacheFile = () => (existsSync(cacheDir) ? readdirSync(cacheDir).find((f) => f.endsWith('.v8cache')) : undefined);
  afterAll(() => w.cleanup());

  async function start(): Promise<number> {
    const r = await w.run(['daemon', 'start', '--port', '0']);
    expect(r.code, r.stderr).toBe(0);
    const port = portFrom(r.stdout);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    return port;
  }

  it('writes the cache on the first start, uses it on the next, and rewrites one V8 rejects', async () => {
    let port = await start();
    const name = await waitFor(cacheFile);
    expect(name).toMatch(new RegExp(`^daemon_cjs-${process.version}-${process.arch}-\\d+-\\d+\\.v8cache$`));
    const first = readFileSync(join(cacheDir, name));
    expect(first.length).toBeGreaterThan(100_000);
    expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);

    port = await start();
    expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);

    writeFileSync(join(cacheDir, name), Buffer.from('not a V8 code cache'.repeat(100)));
    port = await start();
    await waitFor(() => (readFileSync(join(cacheDir, name)).length > 100_000 ? true : undefined));
    expect((await w.run(['daemon', 'stop', '--port', String(port)])).code).toBe(0);

    expect(codeCacheStates(logDir)).toEqual(['miss', 'hit', 'rejected']);
  }, 60_000);

  it('loads the cache seeded by the build on the very first start, then saves its own', async () => {
    expect(existsSync(join(ROOT, 'dist', 'cco', 'daemon.cjs.v8cache'))).toBe(true);
    const fresh = cliWorld({ CCO_LOG_LEVEL: 'debug' });
    try {
      const r = await fresh.run(['daemon', 'start', '--port', '0']);
      expect(r.code, r.stderr).toBe(0);
      const freshCache = join(fresh.env.CCO_HOME as string, 'cache');
      await waitFor(() => (existsSync(freshCache) && readdirSync(freshCache).some((f) => f.endsWith('.v8cache')) ? true : undefined));
      expect((await fresh.run(['daemon', 'stop', '--port', String(portFrom(r.stdout))])).code).toBe(0);
      expect(codeCacheStates(join(fresh.env.CCO_HOME as string, 'logs'))).toEqual(['hit']);
    } finally {
      fresh.cleanup();
    }
  }, 60_000);
});
