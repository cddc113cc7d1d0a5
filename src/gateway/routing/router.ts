import { digest } from '../cache/key.js';
import { BUILTIN_PROVIDERS, providerSchema } from './schema.js';
import type { ProviderConfig, ProviderFormat, RouteConfig, RoutingFile } from './schema.js';

/** Where one request goes: the provider, its URL, credentials and resilience settings. */
export interface ResolvedRoute {
  /** The route's key: its `pattern`; `default:<provider>` when no route matched. */
  name: string;
  provider: string;
  format: ProviderFormat;
  /** Origin of the upstream, e.g. https://api.anthropic.com */
  origin: string;
  /** Path prefix before the endpoint: '' for Anthropic, '/v1' for OpenAI (from its base URL). */
  basePath: string;
  upstreamModel: string;
  /** Configured keys (rotated); empty means the client's own credentials are passed through. */
  keys: readonly string[];
  /** The environment variables the keys come from (for messages). */
  keyEnv: readonly string[];
  /**
   * The keys are a built-in provider's default (`ANTHROPIC_API_KEY` / `OPENAI_API_KEY` of the
   * daemon's environment), not named by the routing file: a client's own key goes first.
   */
  keysByDefault: boolean;
  timeoutMs: number;
  retries: number;
  fallbacks: readonly string[];
  cache: boolean;
  maxConcurrency: number;
  maxQueue: number;
}

const targets = new WeakMap<ResolvedRoute, string>();
/**
 * Who answers a route, as the cache key names it: a digest of provider, wire format, upstream URL
 * and model (short enough to stand for itself in the key). Once per route: routes are memoised.
 */
export function routeTarget(r: ResolvedRoute): string {
  let t = targets.get(r);
  if (t === undefined) {
    t = digest(`${r.provider}|${r.format}|${r.origin}${r.basePath}|${r.upstreamModel}`);
    targets.set(r, t);
  }
  return t;
}

interface CompiledRoute {
  re: RegExp;
  cfg: RouteConfig;
}

function envList(names: string | string[] | undefined): string[] {
  return names === undefined ? [] : Array.isArray(names) ? names : [names];
}

const OPENAI_MODEL = /^(gpt-|o\d|chatgpt-|text-|davinci|babbage|ft:gpt)/i;

/** The provider a model name implies when no route names one. */
export function inferProvider(model: string): string {
  return OPENAI_MODEL.test(model) ? 'openai' : 'anthropic';
}

/**
 * The SDKs' own base-URL variables, honoured after `CCO_<PROVIDER>_BASE_URL`: a user who already
 * sends Claude Code through a gateway of their own (ANTHROPIC_BASE_URL) keeps it as the upstream
 * when `cco` points Claude Code at this gateway. buildRouter drops one that points here.
 */
export const CLIENT_BASE_URL_ENV: Readonly<Record<string, string>> = { anthropic: 'ANTHROPIC_BASE_URL', openai: 'OPENAI_BASE_URL' };

/** `CCO_<PROVIDER>_BASE_URL`, e.g. CCO_ANTHROPIC_BASE_URL, CCO_OPENAI_BASE_URL, CCO_DEEPSEEK_BASE_URL. */
export function baseUrlEnvName(provider: string): string {
  return `CCO_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_BASE_URL`;
}

/** Splits a base URL into origin and path prefix, following each SDK's convention. */
export function splitBaseUrl(baseUrl: string, format: ProviderFormat): { origin: string; basePath: string } {
  const u = new URL(baseUrl);
  let path = u.pathname.replace(/\/+$/, '');
  // Anthropic's convention is a base URL without /v1 (the SDK appends /v1/messages).
  if (format === 'anthropic' && path.endsWith('/v1')) path = path.slice(0, -3);
  return { origin: u.origin, basePath: path };
}

/** A provider's keys; `rotate(failed)` after a 401/429 on `failed` moves on to the next key. */
class KeyRing {
  private i = 0;
  constructor(readonly keys: string[]) {}
  current(): string | undefined {
    return this.keys.length ? this.keys[this.i % this.keys.length] : undefined;
  }
  /**
   * Only when `failed` is still the current key: requests in flight together that failed on the
   * same key move the ring on once, not once each (the second move went back to the bad key).
   */
  rotate(failed: string | undefined): void {
    if (failed === undefined || this.current() === failed) this.i++;
  }
}

/**
 * Model → route resolution over a validated routing file. Routes are searched in order (regex
 * on the model name); the first match wins; an unmatched model goes to the provider its name
 * implies with the defaults. Env supplies keys and base URL overrides.
 */
export class Router {
  private readonly routes: CompiledRoute[];
  private readonly providers: Map<string, ProviderConfig>;
  private readonly rings = new Map<string, KeyRing>();

  constructor(
    readonly file: RoutingFile,
    private readonly env: Record<string, string | undefined>,
  ) {
    this.routes = file.routes.map((cfg) => ({ re: new RegExp(cfg.pattern), cfg }));
    this.providers = new Map();
    for (const [name, p] of Object.entries(BUILTIN_PROVIDERS)) this.providers.set(name, providerSchema.parse(p));
    for (const [name, p] of Object.entries(file.providers)) this.providers.set(name, p);
  }

  providerNames(): string[] {
    return [...this.providers.keys()];
  }

  provider(name: string): ProviderConfig | undefined {
    return this.providers.get(name);
  }

  /** Every upstream URL the file can send to (for the loop check). */
  upstreamUrls(): { where: string; url: string }[] {
    const out: { where: string; url: string }[] = [];
    for (const name of this.providers.keys()) out.push({ where: `provider ${name}`, url: this.providerBaseUrl(name) });
    this.file.routes.forEach((r, i) => {
      if (r.base_url) out.push({ where: `routes[${i}] (${r.pattern})`, url: r.base_url });
    });
    return out;
  }

  providerBaseUrl(name: string): string {
    const p = this.providers.get(name);
    return this.env[baseUrlEnvName(name)] || this.env[CLIENT_BASE_URL_ENV[name] ?? ''] || p?.base_url || '';
  }

  private readonly resolved = new Map<string, ResolvedRoute>();

  /** The route for a model (memoised: the router is immutable; a reload builds a new one). */
  resolve(model: string): ResolvedRoute {
    let r = this.resolved.get(model);
    if (!r) {
      r = this.resolveUncached(model);
      if (this.resolved.size >= 1000) this.resolved.clear();
      this.resolved.set(model, r);
    }
    return r;
  }

  private resolveUncached(model: string): ResolvedRoute {
    const hit = this.routes.find((r) => r.re.test(model));
    const cfg = hit?.cfg;
    const providerName = cfg?.provider ?? inferProvider(model);
    const p = this.providers.get(providerName);
    if (!p) throw new Error(`route for ${model} names unknown provider "${providerName}"`);
    const base = cfg?.base_url ?? this.providerBaseUrl(providerName);
    const { origin, basePath } = splitBaseUrl(base, p.format);
    const keyEnv = cfg?.api_key_env ?? p.api_key_env;
    const keysByDefault = cfg?.api_key_env === undefined && this.defaultProvider(providerName);
    return {
      name: cfg ? cfg.pattern : `default:${providerName}`,
      provider: providerName,
      format: p.format,
      origin,
      basePath,
      upstreamModel: cfg?.model ?? model,
      keys: this.ring(keyEnv).keys,
      keyEnv: envList(keyEnv),
      keysByDefault,
      timeoutMs: cfg?.timeout_ms ?? this.file.defaults.timeout_ms,
      retries: cfg?.retries ?? this.file.defaults.retries,
      fallbacks: cfg?.fallbacks ?? [],
      cache: cfg?.cache ?? true,
      maxConcurrency: p.max_concurrency,
      maxQueue: p.max_queue,
    };
  }

  /** A provider's own target with the defaults (for provider-wide calls such as GET /v1/models). */
  resolveProvider(name: string): ResolvedRoute {
    const p = this.providers.get(name);
    if (!p) throw new Error(`unknown provider "${name}"`);
    const { origin, basePath } = splitBaseUrl(this.providerBaseUrl(name), p.format);
    return {
      name: `provider:${name}`,
      provider: name,
      format: p.format,
      origin,
      basePath,
      upstreamModel: '',
      keys: this.ring(p.api_key_env).keys,
      keyEnv: envList(p.api_key_env),
      keysByDefault: this.defaultProvider(name),
      timeoutMs: this.file.defaults.timeout_ms,
      retries: this.file.defaults.retries,
      fallbacks: [],
      cache: false,
      maxConcurrency: p.max_concurrency,
      maxQueue: p.max_queue,
    };
  }

  /** A built-in provider the routing file does not redefine. */
  private defaultProvider(name: string): boolean {
    return Object.hasOwn(BUILTIN_PROVIDERS, name) && !Object.hasOwn(this.file.providers, name);
  }

  /** The key to use now for a route's key set (undefined: pass the client's through). */
  currentKey(route: ResolvedRoute): string | undefined {
    if (!route.keys.length) return undefined;
    return this.ringFor(route.keys).current();
  }

  /** After a 401/429 answered to `failedKey` (the key that request used). */
  rotateKey(route: ResolvedRoute, failedKey: string | undefined): void {
    if (route.keys.length > 1) this.ringFor(route.keys).rotate(failedKey);
  }

  private ring(envNames: string | string[] | undefined): KeyRing {
    // each variable may hold several keys (comma-separated), and NAME_1 … NAME_32 add more (the
    // seeds' OPENAI_API_KEY_1/_2/_3 rotation)
    const values = envList(envNames).flatMap((n) => [this.env[n], ...Array.from({ length: 32 }, (_x, i) => this.env[`${n}_${i + 1}`])]);
    const keys = [...new Set(values.flatMap((v) => (v ?? '').split(',').map((k) => k.trim()).filter(Boolean)))];
    return this.ringFor(keys);
  }

  private ringFor(keys: readonly string[]): KeyRing {
    const id = keys.join('\u0000');
    let r = this.rings.get(id);
    if (!r) {
      r = new KeyRing([...keys]);
      this.rings.set(id, r);
    }
    return r;
  }
}
