import type { Dispatcher } from 'undici';
import { dispatchRequest } from './body.js';
import type { UpstreamBody } from './body.js';
import type { AbortLike } from '../../core/abort.js';

export interface UpstreamRequest {
  origin: string;
  /** Path with query string. */
  path: string;
  method: 'GET' | 'POST' | 'HEAD';
  headers: Record<string, string>;
  body?: Buffer | string;
  signal: AbortLike;
  /** Time to the response headers. */
  headersTimeoutMs: number;
  /** Longest silence between body chunks. */
  bodyTimeoutMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
}

/** The narrow interface the gateway calls providers through (tests and benchmarks may wrap it). */
export interface Upstream {
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  /** Explicit outbound proxy (`--http-proxy`); otherwise HTTP_PROXY/HTTPS_PROXY/NO_PROXY from env. */
  httpProxy?: string;
  env?: Record<string, string | undefined>;
  /** Max sockets per origin. */
  connectionsPerOrigin?: number;
}

/**
 * Provider calls over undici: one keep-alive pool per origin (the Agent keeps them), bodies
 * streamed back as they arrive (`DispatchBody`), aborted through the request's signal. undici
 * (a megabyte of code) is loaded on the first provider call, not at daemon start.
 */
export function createUpstream(opts: UpstreamOptions = {}): Upstream {
  const env = opts.env ?? {};
  const common = { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: opts.connectionsPerOrigin ?? 512, pipelining: 1 };
  const proxy = opts.httpProxy || env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy;
  let dispatcher: Dispatcher | undefined;
  let loading: Promise<Dispatcher> | undefined;
  const load = (): Promise<Dispatcher> =>
    (loading ??= import('./undici.js').then(({ Agent, EnvHttpProxyAgent }) => {
      dispatcher = proxy
        ? new EnvHttpProxyAgent({
            ...common,
            httpProxy: opts.httpProxy || env.HTTP_PROXY || env.http_proxy || proxy,
            httpsProxy: opts.httpProxy || env.HTTPS_PROXY || env.https_proxy || proxy,
            noProxy: env.NO_PROXY || env.no_proxy || 'localhost,127.0.0.1,::1',
          })
        : new Agent(common);
      return dispatcher;
    }));
  return {
    async request(r) {
      return dispatchRequest(
        dispatcher ?? (await load()),
        {
          origin: r.origin,
          path: r.path,
          method: r.method,
          headers: r.headers,
          body: r.body ?? null,
          headersTimeout: r.headersTimeoutMs,
          bodyTimeout: r.bodyTimeoutMs,
        },
        r.signal,
      );
    },
    close: async () => {
      if (loading) await (await loading).close();
    },
  };
}
