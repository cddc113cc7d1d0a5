import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolvePaths } from '../config/paths.js';
import { PACKAGE_ROOT } from '../core/version.js';
import { readCatalogCache, writeCatalogCache } from './cache.js';
import { checkCatalog } from './check.js';
import { AgentCatalogError } from './errors.js';
import type { AgentIssue } from './errors.js';
import type { AgentCatalog, AgentDefinition } from './types.js';

/** In-memory catalog over loaded definitions. */
export function catalogOf(defs: readonly AgentDefinition[]): AgentCatalog {
  const byName = new Map(defs.map((d) => [d.name, d]));
  return {
    list: () => defs,
    get: (name) => byName.get(name),
    has: (name) => byName.has(name),
    subscribersOf: (topic) => defs.filter((d) => d.topics.subscribe.includes(topic)),
  };
}

/** Where the catalog ships: `<package root>/agents`. */
export function defaultAgentsDir(): string {
  return join(PACKAGE_ROOT, 'agents');
}

export interface LoadCatalogOptions {
  /**
   * Folder for the parsed-catalog cache (default `<CCO_HOME>/cache`), or false for none.
   * Parsing 119 YAML headers costs ~100 ms on a cold process; the cache makes a daemon start
   * read one JSON file instead, and is keyed on every file's name, size and mtime.
   */
  cacheDir?: string | false;
}

export interface CatalogLoadReport {
  dir: string;
  /** `*.md` files found. */
  files: number;
  /** Agents loaded (equals `files` when the catalog is valid). */
  agents: number;
  /** Agents per category. */
  categories: Record<string, number>;
  /** Wall time of the load in milliseconds. */
  ms: number;
  /** Whether the parsed cache was used. */
  cached: boolean;
}

/**
 * Loads the agent catalog from `dir` (default `<package root>/agents`): every `*.md` file is
 * parsed (YAML front matter + Markdown prompt), validated, and checked against the others
 * (unique names, upstream agents exist, every subscribed event is published by someone).
 * Throws AgentCatalogError listing every problem with its file and field.
 */
export async function loadAgentCatalog(dir?: string, opts: LoadCatalogOptions = {}): Promise<AgentCatalog> {
  return (await loadAgentCatalogWithReport(dir, opts)).catalog;
}

/** loadAgentCatalog, plus what was loaded and how long it took. */
export async function loadAgentCatalogWithReport(dir?: string, opts: LoadCatalogOptions = {}): Promise<{ catalog: AgentCatalog; report: CatalogLoadReport }> {
  const started = performance.now();
  const root = resolve(dir ?? defaultAgentsDir());
  const files = listAgentFiles(root);
  const fingerprint = fingerprintOf(root, files);
  const cacheDir = opts.cacheDir === undefined ? join(resolvePaths().home, 'cache') : opts.cacheDir;
  let defs = cacheDir ? readCatalogCache(cacheDir, root, fingerprint) : undefined;
  const cached = defs !== undefined;
  if (!defs) {
    defs = await parseAll(root, files.map((f) => f.name));
    if (cacheDir) writeCatalogCache(cacheDir, root, fingerprint, defs);
  }
  const categories: Record<string, number> = {};
  for (const d of defs) categories[d.category] = (categories[d.category] ?? 0) + 1;
  const report: CatalogLoadReport = { dir: root, files: files.length, agents: defs.length, categories, ms: performance.now() - started, cached };
  return { catalog: catalogOf(defs), report };
}

interface FileStamp {
  name: string;
  size: number;
  mtimeMs: number;
}

function listAgentFiles(root: string): FileStamp[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the folder does not exist' : (e as Error).message;
    throw new AgentCatalogError(root, [{ file: '(catalog)', field: '(folder)', message: `cannot read the agent folder: ${why}` }], 0);
  }
  const md = names.filter((n) => n.endsWith('.md') && n !== 'README.md').sort();
  if (md.length === 0) throw new AgentCatalogError(root, [{ file: '(catalog)', field: '(folder)', message: 'no agent definitions (*.md) in the folder' }], 0);
  return md.map((name) => {
    const st = statSync(join(root, name));
    return { name, size: st.size, mtimeMs: st.mtimeMs };
  });
}

/** Bump when the parsed shape or the validation rules change, so that old caches are ignored. */
const PARSER_VERSION = 3;

function fingerprintOf(root: string, files: FileStamp[]): string {
  const h = createHash('sha256').update(`v${PARSER_VERSION}\0${root}\0`);
  for (const f of files) h.update(`${f.name}\0${f.size}\0${f.mtimeMs}\0`);
  return h.digest('hex');
}

async function parseAll(root: string, names: string[]): Promise<AgentDefinition[]> {
  // Loaded only on a cache miss: the YAML parser and the schemas are not needed otherwise.
  const { parseAgentFile } = await import('./parse.js');
  const issues: AgentIssue[] = [];
  const defs: AgentDefinition[] = [];
  for (const name of names) {
    const out = parseAgentFile(readFileSync(join(root, name), 'utf8'), name);
    if (out.ok) defs.push({ ...out.agent, source: join(root, name) });
    else issues.push(...out.issues);
  }
  issues.push(...checkCatalog(defs));
  if (issues.length > 0) throw new AgentCatalogError(root, issues, names.length);
  return defs;
}
