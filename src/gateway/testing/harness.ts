import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { LogBuffer } from '../../core/log-buffer.js';
import { createLogger } from '../../core/logger.js';
import { startFakeProvider } from '../../fake-provider/server.js';
import type { FakeProvider } from '../../fake-provider/server.js';
import { Hub } from '../../hub/hub.js';
import { buildApp } from '../../server/app.js';
import { createMetricsRegistry } from '../../server/metrics.js';
import { openStore } from '../../store/store.js';
import type { Store } from '../../store/store.js';
import { createGateway } from '../gateway.js';
import type { Gateway, GatewayOptions } from '../gateway.js';

export interface Harness {
  fake: FakeProvider;
  gateway: Gateway;
  app: FastifyInstance;
  store: Store;
  hub: Hub;
  /** Gateway base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  dir: string;
  routingFile: string;
  /** What the gateway logged at warn and above (kept in memory only). */
  logs: LogBuffer;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** model-routing.json content; `{{FAKE}}` is replaced by the fake provider's URL. */
  routing?: unknown;
  cacheSizeMb?: number;
  cacheTtlSeconds?: number;
  env?: Record<string, string | undefined>;
  gateway?: Partial<GatewayOptions>;
  /** A store to use instead of a fresh SQLite file (e.g. a PostgreSQL test schema); not closed by the harness. */
  store?: Store;
}

/**
 * A gateway on 127.0.0.1 port 0 in front of a fresh fake provider, with a temp SQLite store:
 * the real HTTP path end to end, for integration tests.
 */
export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const fake = await startFakeProvider({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'cco-gw-'));
  const routingFile = join(dir, 'model-routing.json');
  const routing = o.routing ?? { routes: [{ pattern: '^claude-', provider: 'anthropic', retries: 0 }, { pattern: '^gpt-', provider: 'openai', retries: 0 }], retry: { base_delay_ms: 10, max_delay_ms: 50 } };
  writeFileSync(routingFile, JSON.stringify(routing, null, 2).replaceAll('{{FAKE}}', fake.url));
  const store = o.store ?? (await openStore({ sqlitePath: join(dir, 'test.db') }));
  const { logger, buffer: logs } = createLogger({ level: 'warn' });
  const metrics = createMetricsRegistry();
  const hub = new Hub();
  let port = 0;
  const gateway = await createGateway({
    store,
    logger,
    metrics,
    hub,
    env: { CCO_ANTHROPIC_BASE_URL: fake.url, CCO_OPENAI_BASE_URL: `${fake.url}/v1`, ...o.env },
    routingFile,
    selfUrls: () => [`http://127.0.0.1:${port}`],
    cacheSizeMb: o.cacheSizeMb ?? 16,
    cacheTtlSeconds: o.cacheTtlSeconds ?? 3600,
    watchIntervalMs: 50,
    writer: { intervalMs: 20 },
    ...o.gateway,
  });
  const app = await buildApp({ logger, metrics, security: { host: '127.0.0.1', accessToken: 'test-token', port: () => port, selfAuthenticated: ['/v1/'] } });
  await gateway.register(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
  return {
    fake,
    gateway,
    app,
    store,
    hub,
    url: `http://127.0.0.1:${port}`,
    dir,
    routingFile,
    logs,
    async close() {
      await app.close();
      await gateway.close();
      if (!o.store) await store.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
