import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config-error.js';
import { createLogger } from '../../core/logger.js';
import { buildRouter, DEFAULT_ROUTING_FILE, parseRouting, pointsAtSelf } from './load.js';
import { ProviderPool } from '../resilience/providers.js';
import type { RoutingFile } from './schema.js';
import { RoutingStore } from './store.js';

const { logger } = createLogger({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'cco-routing-'));
  dirs.push(d);
  return d;
};
const parseError = (text: string): ConfigError => {
  try {
    parseRouting(text, '/x/model-routing.json');
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

const BREAKER_VARS = ['CIRCUIT_BREAKER_FAILURE_THRESHOLD', 'CIRCUIT_BREAKER_RECOVERY_TIMEOUT'] as const;

/** Runs `fn` with exactly these CIRCUIT_BREAKER_* variables set in process.env, then restores them. */
function withBreakerEnv(vars: Partial<Record<(typeof BREAKER_VARS)[number], string>>, fn: () => void): void {
  const saved = BREAKER_VARS.map((k) => [k, process.env[k]] as const);
  try {
    for (const k of BREAKER_VARS) {
      const v = vars[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The provider pool as the gateway builds it from a routing config. */
const poolFor = (file: RoutingFile): ProviderPool => new ProviderPool({ failureThreshold: file.breaker.failure_threshold, openMs: file.breaker.open_ms });

/** What a breaker of the pool does: the failures that open it, and how long it then stays open. */
function builtBreaker(pool: ProviderPool): { failureThreshold: number; openMs: number } {
  const b = pool.get('anthropic', { maxConcurrency: 1, maxQueue: 1 }).breaker;
  b.reset();
  let failures = 0;
  while (b.state === 'closed' && failures < 2000) {
    b.failure();
    failures++;
  }
  // just opened: the time to its probe is the whole open time (less the few ms since)
  return { failureThreshold: failures, openMs: Math.ceil(b.retryInMs() / 1000) * 1000 };
}

describe('routing file', () => {
  it('the shipped default is valid and routes Claude and GPT models', () => {
    const r = buildRouter(parseRouting(readFileSync(DEFAULT_ROUTING_FILE, 'utf8'), DEFAULT_ROUTING_FILE), {}, [], DEFAULT_ROUTING_FILE);
    expect(r.resolve('claude-sonnet-4-5')).toMatchObject({ provider: 'anthropic', format: 'anthropic', origin: 'https://api.anthropic.com', basePath: '' });
    expect(r.resolve('gpt-4o')).toMatchObject({ provider: 'openai', format: 'openai', origin: 'https://api.openai.com', basePath: '/v1' });
    expect(r.resolve('deepseek-chat')).toMatchObject({ provider: 'deepseek', format: 'openai' });
    expect(r.resolve('some-unknown-model')).toMatchObject({ provider: 'anthropic', name: 'default:anthropic' });
  });

  it('refuses malformed JSON with file, line, column and the cause', () => {
    const trailing = parseError('{\n  "routes": [\n    { "pattern": "claude-*", "provider": "anthropic" },\n  ]\n}');
    expect(trailing).toBeInstanceOf(ConfigError);
    expect(trailing.message).toMatch(/^Unable to parse configuration file \/x\/model-routing\.json:4:3: .*trailing comma/i);
    expect(trailing.location).toMatchObject({ line: 4, column: 3 });
    expect(parseError("{ 'pattern': 'claude-*' }").message).toMatch(/:1:3: .*single quotes/);
    expect(parseError('{ "routes" [] }').message).toMatch(/:1:12: .*colon/i);
  });

  it('refuses an empty file saying it is empty, with the smallest valid file and that deleting it uses the shipped routes', () => {
    for (const text of ['', '  \n\n', '\uFEFF\n']) {
      const e = parseError(text);
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.message).toBe(
        `Routing configuration file /x/model-routing.json is empty: delete it to use the shipped routes (${DEFAULT_ROUTING_FILE}), copy that file here to start from them, or write {} (the smallest valid file: gpt-*, o1… models go to OpenAI, every other to Anthropic)`,
      );
    }
    // what the message offers is true: {} is valid and routes by the model's name
    const smallest = buildRouter(parseRouting('{}', '/x/model-routing.json'), {}, [], '/x/model-routing.json');
    expect(smallest.resolve('gpt-4o')).toMatchObject({ provider: 'openai' });
    expect(smallest.resolve('o1-mini')).toMatchObject({ provider: 'openai' });
    expect(smallest.resolve('claude-haiku-4-5')).toMatchObject({ provider: 'anthropic' });
  });

  it('parses the breaker as the file writes it; CIRCUIT_BREAKER_FAILURE_THRESHOLD and CIRCUIT_BREAKER_RECOVERY_TIMEOUT (seconds) win in the breakers built from it', () => {
    const written = '{"breaker": {"open_ms": 5000, "failure_threshold": 9}}';
    const shippedText = readFileSync(DEFAULT_ROUTING_FILE, 'utf8');
    const shippedBreaker = (JSON.parse(shippedText) as { breaker: unknown }).breaker;
    withBreakerEnv({}, () => {
      expect(parseRouting('{}', '/x/model-routing.json').breaker).toEqual({ failure_threshold: 5, open_ms: 30_000 });
      expect(builtBreaker(poolFor(parseRouting('{}', '/x/model-routing.json')))).toEqual({ failureThreshold: 5, openMs: 30_000 });
      expect(builtBreaker(poolFor(parseRouting(written, '/x/model-routing.json')))).toEqual({ failureThreshold: 9, openMs: 5000 });
    });
    withBreakerEnv({ CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3', CIRCUIT_BREAKER_RECOVERY_TIMEOUT: '120' }, () => {
      // the parsed file keeps its own values: it is what the improvement cycle writes back
      expect(parseRouting('{}', '/x/model-routing.json').breaker).toEqual({ failure_threshold: 5, open_ms: 30_000 });
      expect(parseRouting(written, '/x/model-routing.json').breaker).toEqual({ failure_threshold: 9, open_ms: 5000 });
      const shipped = parseRouting(shippedText, DEFAULT_ROUTING_FILE);
      expect(shipped.breaker).toEqual(shippedBreaker);
      // the breakers in force take the variables, over the shipped file and over any other
      expect(builtBreaker(poolFor(shipped))).toEqual({ failureThreshold: 3, openMs: 120_000 });
      const pool = poolFor(parseRouting(written, '/x/model-routing.json'));
      expect(builtBreaker(pool)).toEqual({ failureThreshold: 3, openMs: 120_000 });
      // a reload (or an improved config) changes the file's values: the variables still win
      pool.configureBreakers({ failureThreshold: 11, openMs: 7000 });
      expect(builtBreaker(pool)).toEqual({ failureThreshold: 3, openMs: 120_000 });
    });
    withBreakerEnv({ CIRCUIT_BREAKER_RECOVERY_TIMEOUT: 'two minutes' }, () => {
      // a value that is not a whole number in range is ignored
      expect(builtBreaker(poolFor(parseRouting(written, '/x/model-routing.json')))).toEqual({ failureThreshold: 9, openMs: 5000 });
      expect(builtBreaker(poolFor(parseRouting('{}', '/x/model-routing.json')))).toEqual({ failureThreshold: 5, openMs: 30_000 });
    });
  });

  it('an improved config applied with persist keeps the file\'s own breaker while CIRCUIT_BREAKER_* are set, which win only in force', () => {
    const f = join(tmp(), 'model-routing.json');
    const own = { failure_threshold: 7, open_ms: 45_000 };
    writeFileSync(f, JSON.stringify({ routes: [{ pattern: '^claude-', retries: 1 }], breaker: own }));
    withBreakerEnv({ CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3', CIRCUIT_BREAKER_RECOVERY_TIMEOUT: '120' }, () => {
      const store = new RoutingStore({ file: f, env: process.env, selfUrls: () => [], logger });
      const pool = poolFor(store.config);
      store.onChange((r) => pool.configureBreakers({ failureThreshold: r.file.breaker.failure_threshold, openMs: r.file.breaker.open_ms }));
      // what getRoutingConfig hands the improvement cycle, changed and applied back
      const improved = structuredClone(store.config);
      improved.defaults.retries = 4;
      store.apply(improved, { persist: true });
      const persisted = JSON.parse(readFileSync(f, 'utf8')) as { breaker: unknown; defaults: { retries: number } };
      expect(persisted.defaults.retries).toBe(4);
      expect(persisted.breaker).toEqual(own);
      expect(builtBreaker(pool)).toEqual({ failureThreshold: 3, openMs: 120_000 });
    });
    // with the variables unset, the file's own values are back in force
    withBreakerEnv({}, () => {
      const store = new RoutingStore({ file: f, env: process.env, selfUrls: () => [], logger });
      expect(store.config.breaker).toEqual(own);
      expect(builtBreaker(poolFor(store.config))).toEqual({ failureThreshold: 7, openMs: 45_000 });
    });
  });

  it('refuses invalid content naming the key', () => {
    expect(parseError('{"routes": [{"pattern": "(unclosed"}]}').message).toMatch(/routes\.0\.pattern: not a valid regular expression/);
    expect(parseError('{"routes": [{"pattern": "x", "timeout_ms": "fast"}]}').message).toMatch(/routes\.0\.timeout_ms/);
    expect(parseError('{"routes": [{"pattern": "x", "retries": 99}]}').message).toMatch(/routes\.0\.retries/);
  });

  it('refuses a route or override that points at the gateway itself', () => {
    const file = parseRouting('{"routes": [{"pattern": "^claude-", "base_url": "http://localhost:3000"}]}', 'f.json');
    expect(() => buildRouter(file, {}, ['http://127.0.0.1:3000'], 'f.json')).toThrow(/points at the gateway itself/);
    const plain = parseRouting('{"routes": []}', 'f.json');
    expect(() => buildRouter(plain, { CCO_ANTHROPIC_BASE_URL: 'http://127.0.0.1:3000/' }, ['http://127.0.0.1:3000'], 'f.json')).toThrow(/loop/);
    expect(() => buildRouter(plain, { CCO_ANTHROPIC_BASE_URL: 'http://127.0.0.1:3001' }, ['http://127.0.0.1:3000'], 'f.json')).not.toThrow();
    expect(pointsAtSelf('http://[::1]:8000/v1', ['http://127.0.0.1:8000'])).toBe(true);
  });

  it('refuses a route naming a provider that does not exist (it would fail every request with a 500)', () => {
    const file = parseRouting('{"routes": [{"pattern": "^claude-", "provider": "antropic"}]}', 'f.json');
    expect(() => buildRouter(file, {}, [], 'f.json')).toThrow(/routes\.0\.provider: unknown provider "antropic" \(known: anthropic, openai/);
    const declared = parseRouting('{"providers": {"local": {"format": "openai", "base_url": "http://127.0.0.1:11434/v1"}}, "routes": [{"pattern": "^qwen", "provider": "local"}]}', 'f.json');
    expect(() => buildRouter(declared, {}, [], 'f.json')).not.toThrow();
  });

  it('base URL: route beats env override beats provider default; keys rotate', () => {
    const file = parseRouting('{"routes": [{"pattern": "^claude-special", "base_url": "http://10.0.0.9:9/"}, {"pattern": "^claude-", "api_key_env": "TEAM_KEYS"}]}', 'f.json');
    const r = buildRouter(file, { CCO_ANTHROPIC_BASE_URL: 'http://127.0.0.1:7777/v1', TEAM_KEYS: 'key-a, key-b' }, [], 'f.json');
    expect(r.resolve('claude-special-1').origin).toBe('http://10.0.0.9:9');
    const route = r.resolve('claude-x');
    expect(route).toMatchObject({ origin: 'http://127.0.0.1:7777', basePath: '' });
    expect(route.keys).toEqual(['key-a', 'key-b']);
    expect(r.currentKey(route)).toBe('key-a');
    r.rotateKey(route, 'key-a');
    expect(r.currentKey(r.resolve('claude-y'))).toBe('key-b');
    // a second request that failed on key-a at the same time does not move it back
    r.rotateKey(route, 'key-a');
    expect(r.currentKey(route)).toBe('key-b');
    r.rotateKey(route, 'key-b');
    expect(r.currentKey(route)).toBe('key-a');
    expect(r.resolve('gpt-4o').keys).toEqual([]);
  });

  it("the user's own ANTHROPIC_BASE_URL is the Anthropic upstream after CCO_ANTHROPIC_BASE_URL, unless it points here", () => {
    const file = parseRouting('{"routes": []}', 'f.json');
    const self = ['http://127.0.0.1:3000'];
    expect(buildRouter(file, { ANTHROPIC_BASE_URL: 'http://127.0.0.1:43833' }, self, 'f.json').resolve('claude-x').origin).toBe('http://127.0.0.1:43833');
    expect(buildRouter(file, { ANTHROPIC_BASE_URL: 'http://127.0.0.1:43833', CCO_ANTHROPIC_BASE_URL: 'http://10.0.0.2:8080' }, self, 'f.json').resolve('claude-x').origin).toBe('http://10.0.0.2:8080');
    expect(buildRouter(file, { OPENAI_BASE_URL: 'https://llm.corp.example/v1' }, self, 'f.json').resolve('gpt-4o').origin).toBe('https://llm.corp.example');
    // a daemon started from a cco session, whose environment points Claude Code at this gateway
    expect(buildRouter(file, { ANTHROPIC_BASE_URL: 'http://localhost:3000' }, self, 'f.json').resolve('claude-x').origin).toBe('https://api.anthropic.com');
  });

  it("NAME_1 … NAME_N add keys to a provider's rotation (the seeds' OPENAI_API_KEY_1/_2/_3)", () => {
    const file = parseRouting('{"routes": []}', 'f.json');
    const r = buildRouter(file, { OPENAI_API_KEY_1: 'sk-one', OPENAI_API_KEY_2: 'sk-two', OPENAI_API_KEY_3: 'sk-three', ANTHROPIC_API_KEY: 'sk-ant-main', ANTHROPIC_API_KEY_2: 'sk-ant-main' }, [], 'f.json');
    const gpt = r.resolve('gpt-4o');
    expect(gpt.keys).toEqual(['sk-one', 'sk-two', 'sk-three']);
    expect(gpt.keyEnv).toEqual(['OPENAI_API_KEY']);
    // the same key twice is one key
    expect(r.resolve('claude-x').keys).toEqual(['sk-ant-main']);
  });
});

describe('routing store (hot reload)', () => {
  it('reloads on change, refuses a bad file and keeps the last good config in force', async () => {
    const d = tmp();
    const f = join(d, 'model-routing.json');
    writeFileSync(f, '{"routes": [{"pattern": "^claude-", "timeout_ms": 1000}]}');
    const store = new RoutingStore({ file: f, env: {}, selfUrls: () => [], logger, watchIntervalMs: 30 });
    store.watch();
    try {
      expect(store.router.resolve('claude-a').timeoutMs).toBe(1000);
      const v1 = store.version;
      writeFileSync(f, '{"routes": [{"pattern": "^claude-", "timeout_ms": 2000, "extra": 1}]}');
      writeFileSync(f, '{"routes": [{"pattern": "^claude-", "timeout_ms": 2000}]}');
      await waitUntil(() => store.router.resolve('claude-a').timeoutMs === 2000);
      expect(store.version).toBeGreaterThan(v1);
      writeFileSync(f, '{"routes": [{"pattern": "^claude-", "timeout_ms": 3000},]}');
      await waitUntil(() => store.status().lastError !== null);
      expect(store.status().lastError).toMatch(/model-routing\.json:1:\d+: .*trailing comma/i);
      expect(store.router.resolve('claude-a').timeoutMs).toBe(2000);
    } finally {
      store.close();
    }
  });

  it('uses the shipped default while the user has no routing file', () => {
    const store = new RoutingStore({ file: join(tmp(), 'missing.json'), env: {}, selfUrls: () => [], logger });
    expect(store.status().source).toBe(DEFAULT_ROUTING_FILE);
    expect(store.router.resolve('gpt-4o').provider).toBe('openai');
  });

  it('apply() with persist never writes over an edit of the file that is not in force (refused, or not yet polled)', () => {
    const f = join(tmp(), 'model-routing.json');
    writeFileSync(f, JSON.stringify({ routes: [{ pattern: '^claude-', retries: 1 }] }));
    const store = new RoutingStore({ file: f, env: {}, selfUrls: () => [], logger });
    // the user saves two new routes with a trailing comma: refused, the last good config in force
    const edit = '{"routes": [{"pattern": "^claude-", "retries": 1}, {"pattern": "^llama", "provider": "openai"},]}';
    writeFileSync(f, edit);
    expect(store.reload().ok).toBe(false);
    const improved = structuredClone(store.config);
    improved.defaults.retries = 4;
    expect(() => store.apply(improved, { persist: true })).toThrow(/holds an edit that was refused .*not overwritten/);
    expect(readFileSync(f, 'utf8')).toBe(edit);
    expect(store.config.defaults.retries).not.toBe(4);
    // fixed, and saved again; an apply before the next poll would drop it just the same
    writeFileSync(f, JSON.stringify({ routes: [{ pattern: '^claude-', retries: 2 }, { pattern: '^llama', provider: 'openai', timeout_ms: 60000 }] }));
    expect(() => store.apply(improved, { persist: true })).toThrow(/was changed since it was loaded/);
    // once loaded, a change is applied and written
    expect(store.reload().ok).toBe(true);
    store.apply({ ...structuredClone(store.config), defaults: { ...store.config.defaults, retries: 4 } }, { persist: true });
    expect((JSON.parse(readFileSync(f, 'utf8')) as { routes: unknown[] }).routes).toHaveLength(2);
    // in force only (no persist): allowed whatever the file holds, and the file's refusal stands
    writeFileSync(f, edit);
    expect(store.reload().ok).toBe(false);
    expect(store.apply(structuredClone(store.config)).version).toBeGreaterThan(0);
    expect(readFileSync(f, 'utf8')).toBe(edit);
    // was: the refusal forgotten, and the next apply wrote over the user's edit
    expect(store.unloadedEdit()).toMatch(/refused/);
    expect(() => store.apply(structuredClone(store.config), { persist: true })).toThrow(/not overwritten/);
    expect(readFileSync(f, 'utf8')).toBe(edit);
  });

  it('keeps the user\'s routes while their file is missing for a moment (an editor\'s rename, a git checkout); the shipped ones only after the grace', async () => {
    const f = join(tmp(), 'model-routing.json');
    writeFileSync(f, JSON.stringify({ routes: [{ pattern: '^claude-', provider: 'openai', base_url: 'http://127.0.0.1:11434/v1' }] }));
    const store = new RoutingStore({ file: f, env: {}, selfUrls: () => [], logger, watchIntervalMs: 20 });
    store.watch();
    try {
      rmSync(f);
      await new Promise((r) => setTimeout(r, 300));
      // was: the shipped routes within one poll, sending claude-* to the public API
      expect(store.status().source).toBe(f);
      expect(store.router.resolve('claude-x').provider).toBe('openai');
      writeFileSync(f, JSON.stringify({ routes: [{ pattern: '^claude-', provider: 'openai', base_url: 'http://127.0.0.1:11434/v1', retries: 3 }] }));
      await waitUntil(() => store.router.resolve('claude-x').retries === 3);
      expect(store.status().source).toBe(f);
    } finally {
      store.close();
    }
  });

  it('apply() validates, puts the config in force and can persist it', () => {
    const d = tmp();
    const f = join(d, 'model-routing.json');
    const store = new RoutingStore({ file: f, env: {}, selfUrls: () => [], logger });
    expect(() => store.apply({ routes: [{ pattern: '[' }] })).toThrow(/regular expression/);
    store.apply({ routes: [{ pattern: '^claude-', retries: 5 }] }, { persist: true });
    expect(store.router.resolve('claude-z').retries).toBe(5);
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ routes: [{ pattern: '^claude-', retries: 5 }] });
  });
});

async function waitUntil(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
