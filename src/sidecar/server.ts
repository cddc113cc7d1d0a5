import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/logger.js';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { AgentCatalog } from '../agents/types.js';
import type { SidecarConfig } from '../config/sections/sidecar.js';
import { AppError } from '../core/errors.js';
import type { Hub } from '../hub/hub.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from '../server/errors.js';
import { installJsonBodies } from '../server/json-body.js';
import { isLoopback } from '../server/security.js';
import type { Store } from '../store/store.js';
import type { AgentsRepo } from './agents-repo.js';
import type { EventBus } from './bus.js';
import type { ContextBuilder } from './context.js';
import type { Knowledge } from './knowledge.js';
import { SlidingWindowStats } from './perf.js';
import type { ProjectRoots } from './roots.js';
import type { ResultsRepo } from './results.js';
import { registerContextRoutes } from './routes-context.js';
import { registerEventRoutes } from './routes-events.js';
import { registerResultRoutes } from './routes-results.js';
import { registerStatusRoutes } from './routes-status.js';
import { bearerToken } from './tokens.js';
import type { AgentClaims, AgentTokens } from './tokens.js';
import { FastHistogram } from '../server/fast-histogram.js';

/** Everything the sidecar's routes use. */
export interface SidecarDeps {
  config: SidecarConfig;
  version: string;
  store: Store;
  catalog: AgentCatalog;
  tokens: AgentTokens;
  agents: AgentsRepo;
  results: ResultsRepo;
  knowledge: Knowledge;
  bus: EventBus;
  context: ContextBuilder;
  roots: ProjectRoots;
  hub: Hub;
  /** The daemon's Prometheus registry (its /metrics shows the sidecar's figures too). */
  metrics?: Registry | undefined;
  resultsDir: string;
  /** Aborted when the sidecar closes: ends long-polls and streams. */
  closing: AbortSignal;
  /** Where the app's 5xx failures are logged (the app itself runs without a logger). */
  logger?: Pick<Logger, 'error'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The agent a sidecar `/api/*` request was authenticated as (set by the onRequest hook). */
    sidecarAgent: AgentClaims;
    /** When the request reached the onRequest hook (performance.now(), ms). */
    sidecarStart: number;
  }
}

/** The longest path segment the sidecar's router takes (a longer one is a 414 saying this number). */
const MAX_PARAM_LENGTH = 256;

/**
 * The sidecar's own Fastify app (its own port, 3001 by default): `/health` and `/status` open,
 * every `/api/*` route behind an agent JWT. Response times of the `/api/*` routes except the
 * long-lived ones (wait, stream) feed `/status`.
 */
export async function buildSidecarApp(deps: SidecarDeps, opts: { host: string }): Promise<{ app: FastifyInstance; perf: SlidingWindowStats }> {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.config.max_result_bytes,
    // identifiers are up to 128 characters (ids.ts); Fastify's default of 100 answered 414 for
    // ids it had just stored
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    return503OnClosing: true,
    // requests in flight finish on close (closeGracefully bounds the wait)
    forceCloseConnections: 'idle',
    keepAliveTimeout: 72_000,
    frameworkErrors: frameworkErrors(MAX_PARAM_LENGTH),
    clientErrorHandler,
  });
  installErrorHandling(app, deps.logger);
  installJsonBodies(app);
  const perf = new SlidingWindowStats();
  const registers = deps.metrics ? [deps.metrics] : [];
  // a second sidecar over the same registry (tests, restarts in-process) reuses the metrics
  const existing = deps.metrics?.getSingleMetric('sidecar_request_duration_seconds') as unknown as FastHistogram<'method' | 'route' | 'status'> | undefined;
  const duration = existing ?? new FastHistogram({
    name: 'sidecar_request_duration_seconds',
    help: 'Sidecar request duration by route and status (long-polls and streams excluded)',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  if (!existing) new Gauge({
    name: 'sidecar_event_consumers',
    help: 'Parked long-polls and open event streams',
    labelNames: ['kind'],
    registers,
    collect() {
      const s = deps.bus.stats();
      this.set({ kind: 'wait' }, s.waiters);
      this.set({ kind: 'stream' }, s.subscriptions);
    },
  });
  app.decorateRequest('sidecarAgent', null as unknown as AgentClaims);
  app.decorateRequest('sidecarStart', 0);
  const loopback = isLoopback(opts.host);
  // callback hooks: an async hook costs a promise and a turn of the microtask queue per request
  const seen = (agent: AgentClaims): void => {
    if (!deps.agents.known(agent.agentId)) {
      void deps.agents.touch(agent).catch(() => undefined);
      // agents are at work: have the result writer threads ready before their first result
      deps.results.warm();
    }
  };
  app.addHook('onRequest', (req, _reply, done) => {
    req.sidecarStart = performance.now();
    if (loopback) {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(host)) return done(new AppError(403, 'host_not_allowed', `Host ${host || '(none)'} is not allowed`));
    }
    // agents are programs, not pages: a browser origin is refused outright
    if (req.headers.origin !== undefined) return done(new AppError(403, 'origin_not_allowed', 'Browser requests are not accepted by the sidecar'));
    // the matched route, not the raw URL: the router decodes the path (`/%61pi/...` is `/api/...`)
    if (!req.routeOptions.url?.startsWith('/api/')) return done();
    let token: string;
    try {
      token = bearerToken(req.headers.authorization);
    } catch (e) {
      return done(e as Error);
    }
    const known = deps.tokens.known(token);
    if (known) {
      req.sidecarAgent = known;
      seen(known);
      return done();
    }
    deps.tokens.verify(token).then(
      (agent) => {
        req.sidecarAgent = agent;
        seen(agent);
        done();
      },
      (e: Error) => done(e),
    );
  });
  // one histogram child per (method, route, status): saves the closures labels() builds per call (prom-client still hashes the labels on each observe)
  const children = new Map<string, { observe(v: number): void }>();
  // Timed when the answer is handed to Node (onSend), not when it has been written (onResponse):
  // an onResponse hook makes Fastify listen for each response's 'finish', and with that
  // listener every request's objects outlived two scavenges in this app (docs/benchmarks/
  // sidecar.md, 2026-12-06 third session): 2.2 MB copied per scavenge, 8–10 ms pauses instead
  // of 0.2 MB and 2 ms. The socket write the figure leaves out is a copy into the kernel.
  app.addHook('onSend', (req, reply, payload, done) => {
    const route = req.routeOptions.url ?? '';
    if (route.startsWith('/api/events/wait') || route.startsWith('/api/events/stream')) return done(null, payload);
    const ms = performance.now() - req.sidecarStart;
    // /status figures describe agent traffic (/api/*): monitoring calls and stray 404s do not count
    if (route.startsWith('/api/')) perf.record(ms);
    const key = `${req.method} ${route} ${reply.statusCode}`;
    let child = children.get(key);
    if (!child) {
      child = duration.labels({ method: req.method, route: route || 'unmatched', status: String(reply.statusCode) });
      if (children.size < 1000) children.set(key, child);
    }
    child.observe(ms / 1000);
    done(null, payload);
  });
  registerStatusRoutes(app, deps, perf);
  registerContextRoutes(app, deps);
  registerResultRoutes(app, deps);
  registerEventRoutes(app, deps);
  return { app, perf };
}
