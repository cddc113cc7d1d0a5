import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { SEED_KEY_ENV } from '../mcp/auth.js';
import { IMPROVE_ENV_NAMES } from '../config/sections/improve.js';
import { PIPELINE_ENV_NAMES } from '../config/sections/pipeline.js';

/**
 * What the config folder's `.env` may set for CCO: provider keys (`ANTHROPIC_API_KEY`,
 * `OPENAI_API_KEY`, `DEEPSEEK_API_KEY`, `..._API_KEYS`), CCO's own variables (`CCO_*`,
 * `ORCHESTRATOR_*`) and the seeds' settings CCO reads (`CIRCUIT_BREAKER_*`, `LLM_*`, the
 * improvement cycle's). Not a project's own `DATABASE_URL`, `REDIS_URL` or `PORT`: they would move
 * the daemon itself.
 */
const SEED_SETTINGS = new Set([...IMPROVE_ENV_NAMES, ...PIPELINE_ENV_NAMES]);
const KEY = /^[A-Z][A-Z0-9_]*_API_KEYS?$/;
/**
 * Where the daemon lives and listens: read before any `.env` (the config folder is where one is
 * looked for), and by `cco` itself, which reads no `.env`: the two would disagree on the port.
 */
const PLACE = new Set(['CCO_HOME', 'CCO_CONFIG_DIR', 'CCO_RUNTIME_DIR', 'CCO_TMPDIR', 'CCO_PORT', 'ORCHESTRATOR_PORT', 'CCO_HOST']);
export function isCcoVariable(name: string): boolean {
  if (PLACE.has(name)) return false;
  return KEY.test(name) || /^(CCO|ORCHESTRATOR|CIRCUIT_BREAKER)_[A-Z0-9_]+$/.test(name) || SEED_SETTINGS.has(name);
}

/**
 * What a project's `.env` may give the daemon: provider keys only. The daemon is shared by every
 * project and inherits the folder of whichever `cco` run started it, so a repo's file must not
 * set its base URLs (prompts and the user's key would go where the repo says), its approval
 * policy, its credentials or admin, nor a setting whose value the repo's own app reads
 * differently (`LLM_TEMPERATURE=1.2` is valid for OpenAI and stops the daemon). Not the seed's
 * MCP key either: it is a way in to the daemon (admin of the local tenant), not a provider's key.
 */
export function isProviderKey(name: string): boolean {
  return KEY.test(name) && name !== SEED_KEY_ENV && !/^(CCO|ORCHESTRATOR)_/.test(name);
}

export interface DotenvFolders {
  /** CCO's config folder: the user's own `.env`, which may set any of CCO's variables. */
  configDir: string;
  /** The folder the daemon starts in (a project): its `.env` may give provider keys only. */
  projectDir?: string;
}

export interface DotenvReport {
  /** Variable names taken, with the file each came from and whose it is (never the values). */
  loaded: { name: string; file: string; from: 'config' | 'project' }[];
  /** CCO's settings a project's `.env` named and the daemon did not take. */
  refused: { name: string; file: string }[];
  /** Files that exist but could not be read. */
  unreadable: { file: string; error: string }[];
}

/**
 * The seeds' "Use .env file" advice: CCO's variables written in a `.env` file reach the daemon.
 * Read from CCO's config folder (any of CCO's variables), then from the folder the daemon starts
 * in (provider keys only); the first file to name a variable wins, and a variable already set in
 * the environment is never replaced.
 */
export function loadDotenv(env: NodeJS.ProcessEnv, folders: DotenvFolders): DotenvReport {
  const out: DotenvReport = { loaded: [], refused: [], unreadable: [] };
  const configFile = join(folders.configDir, '.env');
  takeFrom(configFile, 'config', env, out);
  // started in the config folder itself: that file is the user's own, already read
  if (folders.projectDir !== undefined && resolve(folders.projectDir, '.env') !== resolve(configFile)) takeFrom(join(folders.projectDir, '.env'), 'project', env, out);
  return out;
}

function takeFrom(file: string, from: 'config' | 'project', env: NodeJS.ProcessEnv, out: DotenvReport): void {
  const text = readIfThere(file, out);
  if (text === undefined) return;
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (!isCcoVariable(name) || !value || env[name]) continue;
    if (from === 'project' && !isProviderKey(name)) {
      out.refused.push({ name, file });
      continue;
    }
    env[name] = value;
    out.loaded.push({ name, file, from });
  }
}

function readIfThere(file: string, out: DotenvReport): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') out.unreadable.push({ file, error: code ?? (e as Error).message });
    return undefined;
  }
}

export interface DotenvLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Each variable by name and file, never its value. A key a project gave is a warning: the user
 * should see that a repo handed the shared daemon a key (used for every project's requests).
 */
export function logDotenv(report: DotenvReport, log: DotenvLog): void {
  for (const { name, file, from } of report.loaded) {
    if (from === 'project') log.warn({ variable: name, file }, `${name} read from ${file}, a project's .env: the shared daemon uses it for every project. If that is not meant, remove it there or set ${name} in the config folder's .env, then \`cco daemon restart\``);
    else log.info({ variable: name, file }, `${name} read from ${file}`);
  }
  for (const { name, file } of report.refused) {
    log.info({ variable: name, file }, `${name} in ${file} is not used: a project's .env may give the daemon provider keys only (*_API_KEY). Put CCO's settings in the config folder's .env or in the environment`);
  }
  for (const { file, error } of report.unreadable) log.warn({ file, error }, `${file} could not be read (${error}): its settings are not used`);
}
