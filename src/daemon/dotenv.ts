import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { IMPROVE_ENV_NAMES } from '../config/sections/improve.js';
import { PIPELINE_ENV_NAMES } from '../config/sections/pipeline.js';

/**
 * What a `.env` file may set for CCO: provider keys (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`,
 * `DEEPSEEK_API_KEY`, `..._API_KEYS`), CCO's own variables (`CCO_*`, `ORCHESTRATOR_*`) and the
 * seeds' settings CCO reads (`CIRCUIT_BREAKER_*`, `LLM_*`, the improvement cycle's). Not a project's own
 * `DATABASE_URL`, `REDIS_URL` or `PORT`: a project's `.env` holds those for its app, and they
 * would move the daemon itself.
 */
const SEED_SETTINGS = new Set([...IMPROVE_ENV_NAMES, ...PIPELINE_ENV_NAMES]);
/**
 * Where the daemon lives and listens: read before any `.env` (the config folder is where one is
 * looked for), and by `cco` itself, which reads no `.env`: the two would disagree on the port.
 */
const PLACE = new Set(['CCO_HOME', 'CCO_CONFIG_DIR', 'CCO_RUNTIME_DIR', 'CCO_TMPDIR', 'CCO_PORT', 'ORCHESTRATOR_PORT', 'CCO_HOST']);
export function isCcoVariable(name: string): boolean {
  if (PLACE.has(name)) return false;
  return /^[A-Z][A-Z0-9_]*_API_KEYS?$/.test(name) || /^(CCO|ORCHESTRATOR|CIRCUIT_BREAKER)_[A-Z0-9_]+$/.test(name) || SEED_SETTINGS.has(name);
}

export interface DotenvReport {
  /** Variable names taken, with the file each came from (never the values). */
  loaded: { name: string; file: string }[];
  /** Files that exist but could not be read. */
  unreadable: { file: string; error: string }[];
}

/**
 * The seeds' "Use .env file" advice: CCO's variables written in a `.env` file reach the daemon.
 * Read from CCO's config folder, then from the folder the daemon starts in (the project where
 * `cco` first ran); the first file to name a variable wins, and a variable already set in the
 * environment is never replaced.
 */
export function loadDotenv(env: NodeJS.ProcessEnv, folders: readonly string[]): DotenvReport {
  const out: DotenvReport = { loaded: [], unreadable: [] };
  const seen = new Set<string>();
  for (const folder of folders) {
    const file = join(folder, '.env');
    if (seen.has(file)) continue;
    seen.add(file);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') out.unreadable.push({ file, error: code ?? (e as Error).message });
      continue;
    }
    for (const [name, value] of Object.entries(parseEnv(text))) {
      if (!isCcoVariable(name) || !value || env[name]) continue;
      env[name] = value;
      out.loaded.push({ name, file });
    }
  }
  return out;
}
