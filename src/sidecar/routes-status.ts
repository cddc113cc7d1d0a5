import { accessSync, constants, mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { SlidingWindowStats } from './perf.js';
import type { SidecarDeps } from './server.js';

/** `GET /health` and `GET /status` in the seed's shapes, with measured values. */
export function registerStatusRoutes(app: FastifyInstance, deps: SidecarDeps, perf: SlidingWindowStats): void {
  const started = Date.now();
  app.get('/health', async (_req, reply) => {
    const [storage, eventBus, agents] = await Promise.all([storageHealthy(deps), deps.bus.healthy().catch(() => false), deps.agents.stats().catch(() => undefined)]);
    const ok = storage && eventBus;
    return reply.status(ok ? 200 : 503).send({
      status: ok ? 'healthy' : 'unhealthy',
      service: 'orchestration-sidecar',
      version: deps.version,
      uptime_seconds: Math.round((Date.now() - started) / 1000),
      checks: {
        storage: storage ? 'healthy' : 'unhealthy',
        event_bus: eventBus ? 'healthy' : 'unhealthy',
        memory_usage_mb: Math.round(process.memoryUsage.rss() / 1024 / 1024),
        active_agents: agents?.active ?? 0,
        event_queue_size: deps.bus.stats().queue_depth,
      },
    });
  });

  app.get('/status', async () => {
    const [agents, results, published] = await Promise.all([deps.agents.stats(), deps.results.stats(), deps.bus.totalPublished()]);
    const bus = deps.bus.stats();
    const p = perf.snapshot();
    return {
      agents,
      storage: {
        context_cache_entries: deps.context.entries,
        results_stored: results.count,
        total_size_mb: Math.round((results.bytes / 1024 / 1024) * 100) / 100,
      },
      events: {
        total_published: published,
        active_subscriptions: bus.waiters + bus.subscriptions,
        // SSE readers that have not taken what was sent: their stream waits for them
        subscriptions_behind: bus.subscriptions_behind,
        queue_depth: bus.queue_depth,
      },
      performance: {
        avg_response_time_ms: p.avg_response_time_ms,
        p99_response_time_ms: p.p99_response_time_ms,
        requests_per_second: p.requests_per_second,
      },
    };
  });
}

async function storageHealthy(deps: SidecarDeps): Promise<boolean> {
  try {
    await deps.store.ping();
    mkdirSync(deps.resultsDir, { recursive: true });
    accessSync(deps.resultsDir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
