import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { closestName } from '../core/closest-name.js';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { parseTomlConfig } from './toml-file.js';
import { envPortNumber } from './launcher-config.js';
import type { Env, Paths } from './paths.js';
import { authSection, rateLimitsSection } from './sections/auth.js';
import { daemonSection } from './sections/daemon.js';
import { dashboardSection } from './sections/dashboard.js';
import { gatewaySection } from './sections/gateway.js';
import { hooksSection } from './sections/hooks.js';
import { improveSection } from './sections/improve.js';
import { mcpSection } from './sections/mcp.js';
import { pipelineSection } from './sections/pipeline.js';
import { sidecarSection } from './sections/sidecar.js';
import { PG_SCHEMA_NAME, PG_SCHEMA_RULE, storageSection } from './sections/storage.js';

/**
 * The whole `daemon.toml`, one section per part; each section's schema lives in sections/. Every
 * section is strict: a misspelt key stops the start with its line and the likely name, never ignored.
 */
export const daemonConfigSchema = z
  .object({
    daemon: daemonSection,
    storage: storageSection,
    hooks: hooksSection,
    sidecar: sidecarSection,
    gateway: gatewaySection,
    pipeline: pipelineSection,
    dashboard: dashboardSection,
    mcp: mcpSection,
    improve: improveSection,
    auth: authSection,
    rate_limits: rateLimitsSection,
  })
  .strict();

export { parseTomlConfig } from './toml-file.js';

export type DaemonConfig = z.infer<typeof daemonConfigSchema>;

export const DEFAULT_CONFIG_TOML = `# CCO daemon configuration. Every value can also be set by flag or environment variable.
# Created with defaults on first run; delete this file to get the defaults back.

[daemon]
host = "127.0.0.1"
port = 3000
log_level = "info"

[storage]
# PostgreSQL for a team (DATABASE_URL wins); empty = embedded SQLite under CCO_HOME
database_url = ""
# Redis for shared cache, events and jobs (REDIS_URL wins); empty = in-process
redis_url = ""

[hooks]
enabled = true
auto_allow_read = true
require_cud_confirmation = false
timeout_seconds = 5
# recorded hook events older than this many days are deleted (0 keeps them)
retention_days = 30

[sidecar]
enabled = true
# port = 3001   (default: the daemon's port + 1; cco daemon start --port 3001 gets 3002)
# events, and agents whose token expired, older than this many days are deleted (0 keeps them)
event_retention_days = 30
agent_retention_days = 30

[gateway]
cache_size_mb = 500
cache_ttl_seconds = 3600

[dashboard]
terminal_enabled = false
`;

/**
 * Loads `daemon.toml` (creating it with defaults on first run), validates it, then applies
 * environment overrides. Errors name the file, the key and its line.
 */
export function loadDaemonConfig(paths: Paths, env: Env = process.env, opts: { create?: boolean } = {}): DaemonConfig {
  const file = paths.configFile;
  let raw: unknown = {};
  let text = '';
  if (existsSync(file)) {
    text = readFileSync(file, 'utf8');
    raw = parseTomlConfig(text, file);
  } else if (opts.create !== false) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, DEFAULT_CONFIG_TOML, { flag: 'wx', mode: 0o644 });
    } catch {
      // unwritable config dir or a concurrent first run: the defaults still apply
    }
  }
  // Parsed once per start: zod's JIT would compile a fast path for every section (~20 ms of cold start) to use it once.
  const parsed = daemonConfigSchema.safeParse(raw, { jitless: true });
  if (!parsed.success) throw zodToConfigError(parsed.error, file, text);
  return applyEnv(parsed.data, env);
}


function zodToConfigError(err: z.ZodError, file: string, text: string): ConfigError {
  const issue = err.issues[0];
  let path = issue?.path.map(String) ?? [];
  let message = issue?.message ?? 'invalid';
  // a misspelt section or key: point at it, and at the name it was probably meant to be
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    const known = knownKeys(path);
    const near = closestName(issue.keys[0], known);
    path = [...path, issue.keys[0]];
    message = `unknown ${path.length === 1 ? 'section' : 'key'} "${issue.keys[0]}"${near ? ` (did you mean "${near}"?)` : known.length ? ` (known: ${known.join(', ')})` : ''}`;
  }
  const key = path.join('.');
  const leaf = path[path.length - 1];
  const line = leaf ? findKeyLine(text, path) : undefined;
  const where = line ? `:${line}` : '';
  return new ConfigError(`Invalid configuration in ${file}${where}: ${key || '(root)'}: ${message}`, file, { key, ...(line ? { line } : {}) });
}

/** The keys the schema knows at `path` (the sections at the root, a section's keys below it, an `[[mcp.keys]]` entry's keys). */
function knownKeys(path: string[]): string[] {
  let node: unknown = daemonConfigSchema;
  for (const p of [...path, '']) {
    node = unwrapToObject(node);
    // an array index (`mcp.keys.0`): unwrapToObject already stepped into the array's element
    if (/^\d+$/.test(p)) continue;
    const shape = (node as { shape?: Record<string, unknown> } | undefined)?.shape;
    if (!shape) return [];
    if (p === '') return Object.keys(shape);
    node = shape[p];
  }
  return [];
}

/** Through defaults, optionals and arrays to the object schema inside. */
function unwrapToObject(node: unknown): unknown {
  for (;;) {
    if (!node || typeof node !== 'object' || 'shape' in node) return node;
    const def = (node as { def?: { innerType?: unknown; element?: unknown } }).def;
    const inner = def?.innerType ?? def?.element;
    if (!inner) return node;
    node = inner;
  }
}


/** `text` matched literally in a RegExp (a quoted TOML key may hold `(`, `[`, `*` ...). */
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The line of `key` inside `[section]` (TOML), so a bad value can be pointed at. */
function findKeyLine(text: string, path: string[]): number | undefined {
  const lines = text.split('\n');
  const inArrayTable = findArrayTableKeyLine(lines, path);
  if (inArrayTable !== undefined) return inArrayTable;
  const [section, key] = path.length >= 2 ? [path[0], path[1]] : [undefined, path[0]];
  // a root-level name is usually a section: its `[name]` header
  if (section === undefined && key !== undefined) {
    const header = lines.findIndex((l) => new RegExp(`^\\[\\s*"?${escapeRegExp(key)}"?\\s*\\]`).test(l.trim()));
    if (header >= 0) return header + 1;
  }
  let inSection = section === undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = (lines[i] ?? '').trim();
    const header = /^\[([^\]]+)\]/.exec(l);
    if (header) {
      inSection = header[1]?.trim() === section;
      if (inSection && key === undefined) return i + 1;
      continue;
    }
    if (inSection && key && new RegExp(`^"?${escapeRegExp(key)}"?\\s*=`).test(l)) return i + 1;
  }
  if (section) {
    const idx = lines.findIndex((l) => l.trim().startsWith(`[${section}]`));
    if (idx >= 0) return idx + 1;
  }
  return undefined;
}

/**
 * In the n-th `[[section.list]]` table (`mcp.keys.1.admin` → the second `[[mcp.keys]]`): the key's
 * line, else the table's header. Undefined when the file has no such table (an inline array).
 */
function findArrayTableKeyLine(lines: string[], path: string[]): number | undefined {
  const [section, list, index, key] = path;
  if (section === undefined || list === undefined || index === undefined || !/^\d+$/.test(index)) return undefined;
  const headerOf = (l: string) => /^\[\[\s*([^\]]+?)\s*\]\]/.exec(l.trim())?.[1];
  let seen = -1;
  for (let i = 0; i < lines.length; i++) {
    if (headerOf(lines[i] ?? '') !== `${section}.${list}`) continue;
    seen++;
    if (seen !== Number(index)) continue;
    for (let j = i + 1; j < lines.length && key !== undefined; j++) {
      const l = (lines[j] ?? '').trim();
      if (l.startsWith('[')) break;
      if (new RegExp(`^"?${escapeRegExp(key)}"?\\s*=`).test(l)) return j + 1;
    }
    return i + 1;
  }
  return undefined;
}

const intEnv = (v: string | undefined): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
};

/** SQLite's page size here (its default; the store never changes it). */
const SQLITE_PAGE_KIB = 4;

/**
 * `CCO_DB_CACHE_SIZE` counts SQLite pages ("pages, not bytes", as the guides say) and is given to
 * the store in KiB, held to `[storage] sqlite_cache_kib`'s bounds. Used by the daemon and `cco proxy`.
 */
export function dbCacheKibFromEnv(env: Env): number | undefined {
  const pages = intEnv(env.CCO_DB_CACHE_SIZE);
  if (pages === undefined || pages <= 0) return undefined;
  return Math.min(4_194_304, Math.max(256, pages * SQLITE_PAGE_KIB));
}

/** `CCO_DB_POOL_MAX`: the most PostgreSQL connections a process holds (`[storage] pg_pool_max`'s bounds). */
export function dbPoolMaxFromEnv(env: Env): number | undefined {
  const n = intEnv(env.CCO_DB_POOL_MAX);
  return n === undefined || n <= 0 ? undefined : Math.min(200, n);
}

/** CCO_PG_SCHEMA (what `cco proxy` reads too), refused naming itself when it is no schema name. */
export function pgSchemaFromEnv(env: Env): string | undefined {
  const v = env.CCO_PG_SCHEMA?.trim();
  if (!v) return undefined;
  if (!PG_SCHEMA_NAME.test(v)) throw new ConfigError(`CCO_PG_SCHEMA=${JSON.stringify(v)} is not a schema name: ${PG_SCHEMA_RULE}`, 'CCO_PG_SCHEMA', { key: 'CCO_PG_SCHEMA' });
  return v;
}

/** CCO_SIDECAR_PORT, refused naming itself when it is no port (it had been ignored, or failed the start without its name). */
function sidecarPortFromEnv(env: Env): number | undefined {
  const v = env.CCO_SIDECAR_PORT;
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(`CCO_SIDECAR_PORT=${JSON.stringify(v)} is not a port: set a number from 1 to 65535 (0 picks a free one), or unset it (export -n CCO_SIDECAR_PORT)`, 'CCO_SIDECAR_PORT', { key: 'CCO_SIDECAR_PORT' });
  }
  return n;
}

function applyEnv(cfg: DaemonConfig, env: Env): DaemonConfig {
  const port = envPortNumber(env);
  const sidecarPort = sidecarPortFromEnv(env);
  const cacheKib = dbCacheKibFromEnv(env);
  const poolMax = dbPoolMaxFromEnv(env);
  const pgSchema = pgSchemaFromEnv(env);
  const level = env.CCO_LOG_LEVEL;
  return {
    ...cfg,
    daemon: {
      ...cfg.daemon,
      ...(env.CCO_HOST ? { host: env.CCO_HOST } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(level && (daemonSection.unwrap().shape.log_level.unwrap().options as readonly string[]).includes(level)
        ? { log_level: level as DaemonConfig['daemon']['log_level'] }
        : {}),
    },
    storage: {
      ...cfg.storage,
      ...(env.DATABASE_URL ? { database_url: env.DATABASE_URL } : {}),
      ...(env.REDIS_URL ? { redis_url: env.REDIS_URL } : {}),
      ...(cacheKib !== undefined ? { sqlite_cache_kib: cacheKib } : {}),
      ...(poolMax !== undefined ? { pg_pool_max: poolMax } : {}),
      ...(pgSchema !== undefined ? { pg_schema: pgSchema } : {}),
    },
    sidecar: { ...cfg.sidecar, ...(sidecarPort !== undefined ? { port: sidecarPort } : {}) },
    hooks: {
      ...cfg.hooks,
      ...(env.ORCHESTRATOR_AUTO_ALLOW_READ ? { auto_allow_read: env.ORCHESTRATOR_AUTO_ALLOW_READ === 'true' } : {}),
      ...(env.ORCHESTRATOR_REQUIRE_CUD_CONFIRMATION
        ? { require_cud_confirmation: env.ORCHESTRATOR_REQUIRE_CUD_CONFIRMATION === 'true' }
        : {}),
    },
  };
}

/**
 * The sidecar's port: the one configured (`[sidecar] port`, `CCO_SIDECAR_PORT`) unless it is the
 * daemon's own; otherwise the daemon's port + 1 (3001 beside the default 3000), so moving the
 * daemon with `--port` moves its sidecar too. A daemon on an OS-chosen port (0) gets one too.
 */
export function sidecarPort(cfg: Pick<DaemonConfig, 'daemon' | 'sidecar'>): number {
  const daemon = cfg.daemon.port;
  if (daemon === 0) return 0;
  const set = cfg.sidecar.port;
  if (set !== undefined && set !== daemon) return set;
  return daemon === 65535 ? 0 : daemon + 1;
}

/** Defaults only, no file and no environment (tests, library use). */
export function defaultDaemonConfig(): DaemonConfig {
  return daemonConfigSchema.parse({}, { jitless: true });
}
