import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/store.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { DEFAULT_CONFIG_TOML, dbCacheKibFromEnv, defaultDaemonConfig, loadDaemonConfig, sidecarPort } from './daemon-config.js';
import type { DaemonConfig } from './daemon-config.js';
import { resolvePaths } from './paths.js';

const withPorts = (daemon: number, sidecar?: number): DaemonConfig => {
  const c = defaultDaemonConfig();
  return { ...c, daemon: { ...c.daemon, port: daemon }, sidecar: { ...c.sidecar, port: sidecar } };
};

describe('sidecar port', () => {
  it("defaults to the daemon's port + 1: 3001 beside 3000, 3002 for `--port 3001` (seed 000's fix)", () => {
    expect(sidecarPort(withPorts(3000))).toBe(3001);
    expect(sidecarPort(withPorts(3001))).toBe(3002);
    expect(sidecarPort(withPorts(0))).toBe(0);
    expect(sidecarPort(withPorts(0, 3001))).toBe(0);
  });

  it('keeps a configured port unless it is the daemon’s own', () => {
    expect(sidecarPort(withPorts(3000, 4100))).toBe(4100);
    // a daemon.toml written by an earlier version says `port = 3001` under [sidecar]
    expect(sidecarPort(withPorts(3001, 3001))).toBe(3002);
  });

  it('the first-run daemon.toml leaves it unset, and CCO_SIDECAR_PORT still wins', () => {
    const t = tempCcoEnv();
    try {
      const paths = resolvePaths(t.env);
      const cfg = loadDaemonConfig(paths, { ...t.env, CCO_PORT: '3005' });
      expect(readFileSync(paths.configFile, 'utf8')).toBe(DEFAULT_CONFIG_TOML);
      expect(cfg.sidecar.port).toBeUndefined();
      expect(sidecarPort(cfg)).toBe(3006);
      expect(sidecarPort(loadDaemonConfig(paths, { ...t.env, CCO_SIDECAR_PORT: '4300' }))).toBe(4300);
    } finally {
      t.cleanup();
    }
  });
});

describe('CCO_SIDECAR_PORT that is no port', () => {
  it('is refused naming the variable (was ignored, or a start failing with "options.port should be >= 0")', () => {
    const t = tempCcoEnv();
    try {
      const paths = resolvePaths(t.env);
      for (const bad of ['abc', '70000', '-5', '3001.5']) {
        expect(() => loadDaemonConfig(paths, { ...t.env, CCO_SIDECAR_PORT: bad }), bad).toThrow(/^CCO_SIDECAR_PORT=".*" is not a port/);
      }
      expect(sidecarPort(loadDaemonConfig(paths, { ...t.env, CCO_SIDECAR_PORT: ' 4301 ' }))).toBe(4301);
    } finally {
      t.cleanup();
    }
  });
});

describe('[storage] pg_schema and CCO_PG_SCHEMA', () => {
  it('takes a schema name, the variable winning; refuses one that is no name, naming where it came from', () => {
    const t = tempCcoEnv();
    try {
      const paths = resolvePaths(t.env);
      mkdirSync(paths.configDir, { recursive: true });
      writeFileSync(paths.configFile, '[storage]\npg_schema = "cco"\n');
      expect(loadDaemonConfig(paths, t.env).storage.pg_schema).toBe('cco');
      expect(loadDaemonConfig(paths, { ...t.env, CCO_PG_SCHEMA: 'team_a' }).storage.pg_schema).toBe('team_a');
      expect(() => loadDaemonConfig(paths, { ...t.env, CCO_PG_SCHEMA: 'Team-A; drop' })).toThrow(/^CCO_PG_SCHEMA="Team-A; drop" is not a schema name/);
      writeFileSync(paths.configFile, '[storage]\npg_schema = "public; drop table users"\n');
      expect(() => loadDaemonConfig(paths, t.env)).toThrow(/daemon\.toml:2: storage\.pg_schema/);
    } finally {
      t.cleanup();
    }
  });
});

describe('daemon port from the environment', () => {
  it('takes ORCHESTRATOR_PORT as CCO_PORT, and CCO_PORT wins when both are set', () => {
    const t = tempCcoEnv();
    try {
      const paths = resolvePaths(t.env);
      expect(loadDaemonConfig(paths, { ...t.env, ORCHESTRATOR_PORT: '8101' }).daemon.port).toBe(8101);
      expect(loadDaemonConfig(paths, { ...t.env, ORCHESTRATOR_PORT: '8101', CCO_PORT: '3005' }).daemon.port).toBe(3005);
      expect(loadDaemonConfig(paths, { ...t.env }).daemon.port).toBe(3000);
    } finally {
      t.cleanup();
    }
  });
});

describe('a misspelt section or key in daemon.toml', () => {
  it('is named with its line and the name it was probably meant to be', () => {
    const t = tempCcoEnv();
    try {
      const paths = resolvePaths(t.env);
      mkdirSync(paths.configDir, { recursive: true });
      writeFileSync(paths.configFile, '[daemon]\nport = 3000\n\n[gatway]\ncache_ttl = 10\n');
      expect(() => loadDaemonConfig(paths, t.env)).toThrow(/daemon\.toml:4: gatway: unknown section "gatway" \(did you mean "gateway"\?\)/);
      // a quoted key with a RegExp's characters: named, not a SyntaxError naming no file
      for (const key of ['"po(rt"', '"da[emon"', '"x*"']) {
        writeFileSync(paths.configFile, `[daemon]\n${key} = 1\n`);
        expect(() => loadDaemonConfig(paths, t.env), key).toThrow(/daemon\.toml:2: daemon\./);
      }
      writeFileSync(paths.configFile, '[daemon]\nprot = 3000\n');
      expect(() => loadDaemonConfig(paths, t.env)).toThrow(/daemon\.toml:2: daemon\.prot: unknown key "prot" \(did you mean "port"\?\)/);
    } finally {
      t.cleanup();
    }
  });
});

describe('CCO_DB_CACHE_SIZE', () => {
  const t = tempCcoEnv();
  afterAll(() => t.cleanup());

  it('counts SQLite pages (seed 000: "pages, not bytes")', () => {
    expect(dbCacheKibFromEnv({ CCO_DB_CACHE_SIZE: '5000' })).toBe(20_000);
    expect(dbCacheKibFromEnv({})).toBeUndefined();
    expect(dbCacheKibFromEnv({ CCO_DB_CACHE_SIZE: 'lots' })).toBeUndefined();
    expect(dbCacheKibFromEnv({ CCO_DB_CACHE_SIZE: '1' })).toBe(256);
  });

  it('reaches the store: PRAGMA cache_size holds the same amount of memory', async () => {
    const paths = resolvePaths(t.env);
    mkdirSync(paths.configDir, { recursive: true });
    writeFileSync(paths.configFile, DEFAULT_CONFIG_TOML);
    const cfg = loadDaemonConfig(paths, { ...t.env, CCO_DB_CACHE_SIZE: '5000' });
    expect(cfg.storage.sqlite_cache_kib).toBe(20_000);
    const store = await openStore({ sqlitePath: `${t.root}/cache.db`, sqliteCacheKib: cfg.storage.sqlite_cache_kib });
    try {
      const pageSize = Number((await sql<{ page_size: number }>`pragma page_size`.execute(store.db)).rows[0]?.page_size);
      const cacheSize = Number((await sql<{ cache_size: number }>`pragma cache_size`.execute(store.db)).rows[0]?.cache_size);
      // negative = KiB; 5,000 pages of page_size bytes
      expect(-cacheSize * 1024).toBe(5000 * pageSize);
    } finally {
      await store.close();
    }
  });
});
