import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
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
   * Folder for the parsed-catalog cache (default: defaultCacheDirs()), or false for none.
   * Parsing 119 YAML headers costs ~100 ms on a cold process; the cache makes a daemon start
   * read one JSON file instead, and is keyed on every file's name, size and mtime.
   */
  cacheDir?: string | false;
}

/**
 * Where the parsed catalog is cached by default, in order: the package's own
 * `node_modules/.cache/cco` (shared by every CCO home on the machine, so that test suites and
 * fresh homes start fast; unwritable in a root-owned global install), then `<CCO_HOME>/cache`.
 * Both are as trusted as the code itself; never a world-writable folder like /tmp.
 */
export function defaultCacheDirs(): string[] {
  return [join(PACKAGE_ROOT, 'node_modules', '.cache', 'cco'), join(resolvePaths().home, 'cache')];
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
  const files = readAgentFiles(root);
  const fingerprint = fingerprintOf(root, files);
  const cacheDirs = opts.cacheDir === undefined ? defaultCacheDirs() : opts.cacheDir === false ? [] : [opts.cacheDir];
  let defs: AgentDefinition[] | undefined;
  for (const d of cacheDirs) if ((defs = readCatalogCache(d, root, fingerprint))) break;
  const cached = defs !== undefined;
  if (!defs) {
    defs = await parseAll(root, files);
    for (const d of cacheDirs) if (writeCatalogCache(d, root, fingerprint, defs)) break;
  }
  const categories: Record<string, number> = {};
  for (const d of defs) categories[d.category] = (categories[d.category] ?? 0) + 1;
  const report: CatalogLoadReport = { dir: root, files: files.length, agents: defs.length, categories, ms: performance.now() - started, cached };
  return { catalog: catalogOf(defs), report };
}

interface AgentFile {
  name: string;
  text: string;
}

/** Reads every `*.md` file (README.md aside), sorted by name. */
function readAgentFiles(root: string): AgentFile[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the folder does not exist' : (e as Error).message;
    throw new AgentCatalogError(root, [{ file: '(catalog)', field: '(folder)', message: `cannot read the agent folder: ${why}` }], 0);
  }
  const md = names.filter((n) => n.endsWith('.md') && n !== 'README.md').sort();
  if (md.length === 0) throw new AgentCatalogError(root, [{ file: '(catalog)', field: '(folder)', message: 'no agent definitions (*.md) in the folder' }], 0);
  return md.map((name) => ({ name, text: readFileSync(join(root, name), 'utf8') }));
}

/** Bump when the parsed shape or the validation rules change, so that old caches are ignored. */
const PARSER_VERSION = 4;

/** Keyed on content, not mtimes: a checkout, copy or same-size edit can never serve stale agents. */
function fingerprintOf(root: string, files: AgentFile[]): string {
  const h = createHash('sha256').update(`v${PARSER_VERSION}\0${root}\0`);
  for (const f of files) h.update(`${f.name}\0${f.text.length}\0`).update(f.text);
  return h.digest('hex');
}

async function parseAll(root: string, files: AgentFile[]): Promise<AgentDefinition[]> {
  // Loaded only on a cache miss: the YAML parser and the schemas are not needed otherwise.
  const { parseAgentFile } = await import('./parse.js');
  const issues: AgentIssue[] = [];
  const defs: AgentDefinition[] = [];
  for (const { name, text } of files) {
    const out = parseAgentFile(text, name);
    if (out.ok) defs.push({ ...out.agent, source: join(root, name) });
    else issues.push(...out.issues);
  }
  issues.push(...checkCatalog(defs));
  if (issues.length > 0) throw new AgentCatalogError(root, issues, files.length);
  return defs;
}
