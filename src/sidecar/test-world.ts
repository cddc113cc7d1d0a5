import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { catalogOf } from '../agents/catalog.js';
import type { AgentCatalog, AgentDefinition } from '../agents/types.js';
import { defaultDaemonConfig } from '../config/daemon-config.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { resolvePaths } from '../config/paths.js';
import type { Paths } from '../config/paths.js';
import { LogBuffer } from '../core/log-buffer.js';
import { silentLogger } from '../core/logger.js';
import type { Logger } from '../core/logger.js';
import { Hub } from '../hub/hub.js';
import { buildApp } from '../server/app.js';
import { createMetricsRegistry } from '../server/metrics.js';
import type { ModuleContext } from '../server/module.js';
import type { Store } from '../store/store.js';
import { openTestStore } from '../testing/test-store.js';
import type { TestStore } from '../testing/test-store.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { sqlWriterFor } from '../store/sql-writer.js';
import { SIDECAR_FORWARDED_PREFIXES } from './daemon-routes.js';
import { createSidecarModule } from './module.js';
import type { SidecarModule } from './module.js';

/** A catalog agent with sensible defaults (tests, benchmarks). */
export function agentDef(name: string, over: Partial<AgentDefinition> = {}): AgentDefinition {
  return {
    name,
    description: `${name} agent`,
    tools: ['Read', 'Write'],
    model: 'sonnet',
    category: 'general',
    context: { include: ['**/*'] },
    topics: { subscribe: [], publish: [] },
    prompt: `You are the ${name}.`,
    ...over,
  };
}

/** The seed's roles: architect → specialist → tester → security auditor. */
export function seedCatalog(): AgentCatalog {
  return catalogOf([
    agentDef('chief-architect', { category: 'architecture', context: { include: ['**/*.md', '**/*.py'] }, topics: { subscribe: [], publish: ['architecture'] } }),
    agentDef('python-specialist', { category: 'language', context: { include: ['**/*.py', '**/requirements*.txt'], upstream: ['chief-architect'] }, topics: { subscribe: ['architecture'], publish: ['implementation'] } }),
    agentDef('test-engineer', { category: 'testing', context: { include: ['**/test_*.py', '**/*.py'] }, topics: { subscribe: ['implementation'], publish: ['testing'] } }),
    agentDef('security-auditor', { category: 'security', context: { include: ['**/*'], exclude: ['**/*.md'] }, topics: { subscribe: ['testing'], publish: ['security'] } }),
  ]);
}

export interface SidecarWorld {
  daemon: FastifyInstance;
  daemonUrl: string;
  sidecar: SidecarModule;
  sidecarUrl: string;
  ctx: ModuleContext;
  store: Store;
  paths: Paths;
  hub: Hub;
  projectRoot: string;
  /** Mints a token directly (bypassing spawn). */
  token(agentType: string, issues: string[] | '*', opts?: { agentId?: string; ttlSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real sidecar on port 0 plus a minimal daemon app (spawn + proxy routes, the daemon's
 * security layer) on port 0, over a temp home, a temp project and a fresh store.
 */
export async function startSidecarWorld(opts: { catalog?: AgentCatalog; dialect?: 'sqlite' | 'postgres'; redisUrl?: string; config?: (c: DaemonConfig) => DaemonConfig; projectRoot?: string; logger?: Logger } = {}): Promise<SidecarWorld> {
  const t = tempCcoEnv();
  const ts: TestStore = await openTestStore(opts.dialect ?? 'sqlite');
  const paths = resolvePaths(t.env);
  const projectRoot = opts.projectRoot ?? join(t.root, 'project');
  mkdirSync(projectRoot, { recursive: true });
  const base = defaultDaemonConfig();
  let config: DaemonConfig = { ...base, daemon: { ...base.daemon, port: 0 }, sidecar: { ...base.sidecar, project_root: projectRoot } };
  if (opts.config) config = opts.config(config);
  const hub = new Hub(5000);
  const metrics = createMetricsRegistry();
  let daemonPort = 0;
  const ctx: ModuleContext = {
    config,
    paths,
    store: ts.store,
    writer: sqlWriterFor(ts.store),
    logger: opts.logger ?? silentLogger(),
    logs: new LogBuffer(),
    hub,
    metrics,
    redisUrl: opts.redisUrl,
    accessToken: 'test-access-token-0123456789',
    version: '0.0.0-test',
    selfUrl: () => `http://127.0.0.1:${daemonPort}`,
    env: {},
  };
  const sidecar = await createSidecarModule(ctx, { catalog: opts.catalog ?? seedCatalog() });
  const daemon = await buildApp({ logger: silentLogger(), metrics, security: { host: '127.0.0.1', accessToken: ctx.accessToken, port: () => daemonPort, selfAuthenticated: [...SIDECAR_FORWARDED_PREFIXES] } });
  await sidecar.register?.(daemon);
  await daemon.listen({ port: 0, host: '127.0.0.1' });
  const addr = daemon.server.address();
  daemonPort = typeof addr === 'object' && addr ? addr.port : 0;
  await sidecar.start?.();
  const sidecarUrl = sidecar.url();
  if (!sidecarUrl) throw new Error('sidecar did not start');
  let n = 0;
  return {
    daemon,
    daemonUrl: ctx.selfUrl(),
    sidecar,
    sidecarUrl,
    ctx,
    store: ts.store,
    paths,
    hub,
    projectRoot,
    token: (agentType, issues, o = {}) =>
      (sidecar.mintAgentToken as NonNullable<SidecarModule['mintAgentToken']>)({ agentId: o.agentId ?? `${agentType}-${++n}`, agentType, issues, ...(o.ttlSeconds ? { ttlSeconds: o.ttlSeconds } : {}) }),
    async close() {
      await daemon.close();
      await sidecar.close?.();
      await ctx.writer.close();
      await ts.cleanup();
      t.cleanup();
    },
  };
}

export interface CallResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** One HTTP request with a real client (fetch); JSON in, JSON (or text) out. */
export async function call<T = Record<string, unknown>>(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) {
    body = opts.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}
