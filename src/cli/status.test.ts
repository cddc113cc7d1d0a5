import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { processIdentity } from '../core/process-alive.js';
import { useTempCcoHome } from '../testing/temp-home.js';
import { main as health } from './health.js';
import { printStatus } from './status.js';

/** What the daemon answers with PostgreSQL down: /api/status fails with its AppError, /health reports every check. */
const DB_DOWN = {
  '/api/status': [503, { error: { code: 'database_unavailable', message: 'The database is unreachable (ECONNREFUSED); retry shortly. `cco doctor` checks the connection.', details: { retryAfterSeconds: 5 } } }],
  '/health': [503, { status: 'degraded', service: 'cco-daemon', pid: process.pid, checks: { database: { status: 'down', dialect: 'postgres', error: 'connect ECONNREFUSED 127.0.0.1:5433' }, redis: { status: 'ok', latency_ms: 0.4 }, memory: { status: 'ok' }, sidecar: { status: 'ok' } } }],
} as const;

/** With Redis down: /api/status answers, its parts degraded; only /health names Redis. */
const REDIS_DOWN = {
  '/api/status': [200, { version: '0.1.0', pid: process.pid, url: 'http://localhost:3750', sidecar_url: 'http://127.0.0.1:3751', vfs: '/tmp/cco', store: 'postgres', uptime_seconds: 60, memory_usage_mb: 90, agents: 12, sealed_files: { status: 'ok' }, parts: { sidecar: { status: 'degraded' }, pipeline: { status: 'degraded', error: 'the queue is unreachable' } } }],
  '/health': [503, { status: 'degraded', service: 'cco-daemon', pid: process.pid, checks: { database: { status: 'ok', dialect: 'postgres' }, redis: { status: 'down', error: 'Redis is unreachable: connect ECONNREFUSED 127.0.0.1:6380' }, memory: { status: 'ok' }, sidecar: { status: 'degraded' }, pipeline: { status: 'degraded' } } }],
} as const;

/** A CCO daemon's sidecar: /health says so, anything else is a 404. */
const SIDECAR = { '/health': [200, { status: 'healthy', service: 'orchestration-sidecar', checks: {} }] } as const;

type Routes = Record<string, readonly [number, unknown]>;

describe('cco status and cco health read what the daemon answered', () => {
  const home = useTempCcoHome();
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  /** A stand-in for the daemon on port 0, answering each path as `routes` says (404 JSON otherwise). */
  async function serve(routes: Routes): Promise<number> {
    const server = createServer((req, res) => {
      const [status, body] = routes[req.url ?? ''] ?? [404, { error: { code: 'not_found', message: 'no such route' } }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return (server.address() as { port: number }).port;
  }

  /** Runs `fn` with stdout and stderr captured. */
  async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
    let out = '';
    const write = (chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    };
    const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(write), vi.spyOn(process.stderr, 'write').mockImplementation(write)];
    try {
      return { code: await fn(), out };
    } finally {
      for (const s of spies) s.mockRestore();
    }
  }

  /** The port's lock record, as the running daemon writes it (this process stands in for it). */
  function recordDaemon(port: number): void {
    mkdirSync(home.env.CCO_RUNTIME_DIR as string, { recursive: true });
    writeFileSync(join(home.env.CCO_RUNTIME_DIR as string, `daemon-${port}.json`), JSON.stringify({ pid: process.pid, identity: processIdentity(), port, host: '127.0.0.1', startedAt: Date.now(), version: 'test', logFile: '' }));
  }

  it('with the database down, shows the daemon’s error and every check, not "does not answer … restart … kill"', async () => {
    const port = await serve(DB_DOWN);
    recordDaemon(port);
    const r = await capture(() => printStatus(String(port), false));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Daemon (PID ${process.pid}) runs at http://127.0.0.1:${port} but cannot report its status: HTTP 503 database_unavailable: The database is unreachable (ECONNREFUSED)`);
    expect(r.out).toContain('❌ database: down — connect ECONNREFUSED 127.0.0.1:5433');
    expect(r.out).toContain('✅ redis: ok');
    expect(r.out).toContain(`cco daemon logs --port ${port}`);
    expect(r.out).not.toMatch(/does not answer|kill|restart/);
    const json = await capture(() => printStatus(String(port), true));
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ running: true, pid: process.pid, error: { http_status: 503, code: 'database_unavailable' }, checks: { database: { status: 'down' } } });
  });

  it('with Redis down, lists the database and Redis from /health beside the parts, with their errors', async () => {
    const port = await serve(REDIS_DOWN);
    const r = await capture(() => printStatus(String(port), false));
    expect(r.code).toBe(0);
    expect(r.out).toContain('✅ Daemon is running');
    expect(r.out).toContain('✅ database: ok');
    expect(r.out).toContain('❌ redis: down — Redis is unreachable: connect ECONNREFUSED 127.0.0.1:6380');
    expect(r.out).toContain('⚠️  pipeline: degraded — the queue is unreachable');
    // each part once
    expect(r.out.match(/sidecar: degraded/g)).toHaveLength(1);
    const json = await capture(() => printStatus(String(port), true));
    expect(JSON.parse(json.out)).toMatchObject({ running: true, checks: { redis: { status: 'down' } } });
  });

  it('a port where a CCO daemon’s sidecar answers is named as that, by status and by health, never as a stranger to kill', async () => {
    const port = await serve(SIDECAR);
    for (const run of [() => printStatus(String(port), false), () => health(['--port', String(port)])]) {
      const r = await capture(run);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`Port ${port} is the sidecar port of a CCO daemon`);
      expect(r.out).not.toMatch(/kill|not a CCO daemon/);
    }
  });
});
