import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withTimeout } from '../core/timeout.js';
import type { DaemonModule, PartHealth } from './module.js';

/** How long one check of /health may take: the whole answer stays within Docker's and Kubernetes' probe timeouts (3 s). */
export const HEALTH_CHECK_MS = 2000;

export interface HealthReport {
  status: 'ok' | 'degraded';
  service: 'cco-daemon';
  version: string;
  pid: number;
  uptime_seconds: number;
  port: number;
  memory_usage_mb: number;
  checks: Record<string, PartHealth>;
}

/**
 * `GET /health`: status, version, uptime and one check per part. 503 when a part that should
 * be running is down (parts switched off report `disabled` and do not count).
 */
export function registerHealth(
  app: FastifyInstance,
  opts: { version: string; startedAt: number; port(): number; parts: () => DaemonModule[]; extra: () => Promise<Record<string, PartHealth>> },
): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const report = await healthReport(opts);
    const code = report.status === 'ok' ? 200 : 503;
    // Beyond loopback (team mode) /health answers without credentials, for load balancers: the
    // verdict and each part's status only. The pid, paths, URLs and errors are for callers the
    // security layer admitted (a token, an API key, a user; anyone when bound to loopback) and
    // for this machine itself (the CLI finds its daemon by them), unless a proxy relayed it.
    if (!req.principal && !fromThisMachine(req)) return reply.status(code).send(publicHealth(report));
    return reply.status(code).send(report);
  };
  app.get('/health', handler);
  // The orchestrator seed's health checks call /api/health.
  app.get('/api/health', handler);
}

export async function healthReport(opts: {
  version: string;
  startedAt: number;
  port(): number;
  parts: () => DaemonModule[];
  extra: () => Promise<Record<string, PartHealth>>;
}): Promise<HealthReport> {
  const checks: Record<string, PartHealth> = await opts.extra();
  await Promise.all(
    opts.parts().map(async (m) => {
      if (!m.health) return;
      try {
        checks[m.name] = await withTimeout(Promise.resolve(m.health()), HEALTH_CHECK_MS, `the ${m.name} check`);
      } catch (e) {
        checks[m.name] = { status: 'down', error: (e as Error).message };
      }
    }),
  );
  const degraded = Object.values(checks).some((c) => c.status === 'down' || c.status === 'degraded');
  return {
    status: degraded ? 'degraded' : 'ok',
    service: 'cco-daemon',
    version: opts.version,
    pid: process.pid,
    uptime_seconds: Math.round((Date.now() - opts.startedAt) / 1000),
    port: opts.port(),
    memory_usage_mb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    checks,
  };
}

/** What an unauthenticated caller beyond loopback sees of the health report. */
export function publicHealth(r: HealthReport): { status: HealthReport['status']; service: 'cco-daemon'; checks: Record<string, { status: PartHealth['status'] }> } {
  const checks: Record<string, { status: PartHealth['status'] }> = {};
  for (const [name, c] of Object.entries(r.checks)) checks[name] = { status: c.status };
  return { status: r.status, service: r.service, checks };
}

/** A request from this machine's loopback, not relayed by a proxy (which would make every caller local). */
function fromThisMachine(req: FastifyRequest): boolean {
  const h = req.headers;
  if (h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined) return false;
  const a = req.socket.remoteAddress ?? '';
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}
