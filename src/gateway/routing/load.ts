import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../../config/config-error.js';
import { parseJsonConfig } from '../../config/json-file.js';
import { packageFile } from '../util/package-file.js';
import { CLIENT_BASE_URL_ENV, Router } from './router.js';
import { routingSchema } from './schema.js';
import type { RoutingFile } from './schema.js';

/** The routing file shipped with CCO (`config/model-routing.json` at the package root). */
export const DEFAULT_ROUTING_FILE = packageFile('config/model-routing.json');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1', '0.0.0.0']);

/** Validates routing JSON (already parsed); errors name the file and the offending key. */
export function validateRouting(raw: unknown, file: string): RoutingFile {
  const r = routingSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = issue?.path.map(String).join('.') || '(root)';
  throw new ConfigError(`Invalid routing configuration in ${file}: ${key}: ${issue?.message ?? 'invalid'}`, file, { key });
}

/** Parses and validates routing file text; a malformed file is refused with file:line:column and cause. */
export function parseRouting(text: string, file: string): RoutingFile {
  // JSON.parse's words for nothing at all ("1:1: a bracket or brace is not closed") sent people looking for a brace
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new ConfigError(emptyRoutingMessage(file), file, { line: 1, column: 1 });
  return validateRouting(parseJsonConfig(text, file), file);
}

/** What to do about an empty routing file: the smallest valid one, or no file at all (the shipped routes). */
function emptyRoutingMessage(file: string): string {
  const smallest = 'write {} (the smallest valid file: gpt-*, o1… models go to OpenAI, every other to Anthropic)';
  if (file === DEFAULT_ROUTING_FILE) return `Routing configuration file ${file} is empty: ${smallest}, or reinstall CCO to get the shipped routes back`;
  return `Routing configuration file ${file} is empty: delete it to use the shipped routes (${DEFAULT_ROUTING_FILE}), copy that file here to start from them, or ${smallest}`;
}

/**
 * True when `url` points at one of `selfUrls` (same port on a loopback name, or the same
 * origin): a route there would send the gateway's requests back to itself.
 */
export function pointsAtSelf(url: string, selfUrls: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return selfUrls.some((s) => {
    try {
      const me = new URL(s);
      const myPort = me.port || (me.protocol === 'https:' ? '443' : '80');
      if (port !== myPort) return false;
      return u.hostname === me.hostname || (LOOPBACK.has(u.hostname) && LOOPBACK.has(me.hostname));
    } catch {
      return false;
    }
  });
}

/** Builds a router and refuses any upstream URL that is the gateway itself. */
export function buildRouter(file: RoutingFile, env: Record<string, string | undefined>, selfUrls: readonly string[], source: string): Router {
  const router = new Router(file, withoutSelfClientUrls(env, selfUrls));
  // a misspelt provider would otherwise load, then fail every request of its route with a 500
  const known = router.providerNames();
  file.routes.forEach((r, i) => {
    if (r.provider !== undefined && !known.includes(r.provider)) {
      throw new ConfigError(`Invalid routing configuration in ${source}: routes.${i}.provider: unknown provider "${r.provider}" (known: ${known.join(', ')}; add it under "providers")`, source, { key: `routes.${i}.provider` });
    }
  });
  for (const { where, url } of router.upstreamUrls()) {
    if (url && pointsAtSelf(url, selfUrls)) {
      throw new ConfigError(
        `Invalid routing configuration in ${source}: ${where} points at the gateway itself (${url}); requests would loop. Point it at the provider (or unset the CCO_*_BASE_URL override).`,
        source,
        { key: where },
      );
    }
  }
  return router;
}

/**
 * The environment without an ANTHROPIC_BASE_URL/OPENAI_BASE_URL that points at this gateway: a
 * daemon started from a `cco` session (whose Claude Code has it set to the gateway) must not take
 * itself for its upstream. A CCO_*_BASE_URL that does is still refused (it was set on purpose).
 */
function withoutSelfClientUrls(env: Record<string, string | undefined>, selfUrls: readonly string[]): Record<string, string | undefined> {
  const out = { ...env };
  for (const name of Object.values(CLIENT_BASE_URL_ENV)) {
    const url = out[name];
    if (url && pointsAtSelf(url, selfUrls)) delete out[name];
  }
  return out;
}

/** Reads the routing file, or the shipped default when the user has none. */
export function readRoutingFile(file: string): { file: string; text: string } {
  if (existsSync(file)) return { file, text: readFileSync(file, 'utf8') };
  if (existsSync(DEFAULT_ROUTING_FILE)) return { file: DEFAULT_ROUTING_FILE, text: readFileSync(DEFAULT_ROUTING_FILE, 'utf8') };
  return { file: '(built-in defaults)', text: '{"routes": []}' };
}
