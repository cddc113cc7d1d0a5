import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { resolvePaths } from '../config/paths.js';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { HEALTH_CHECK_MS, WRITE_PROBE_MS } from '../server/health.js';
import { HEALTH_ANSWER_MS, isHealthy, notCcoMessage, probeHealth, stopDaemon, whoAnswers } from './control.js';

/** A server on port 0 answering every request with `status` and `body`, after `delayMs`. */
async function answering(status: number, body: string, delayMs = 0): Promise<{ url: string; port: number; server: Server }> {
  const server = createServer((_req, res) => void setTimeout(() => res.writeHead(status, { 'content-type': 'application/json' }).end(body), delayMs));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, port, server };
}

const daemonHealth = (database: string, pid = process.pid): string =>
  JSON.stringify({ status: 'ok', service: 'cco-daemon', pid, checks: { database: { status: 'ok', dialect: 'sqlite', location: database } } });

describe('who answers on a daemon port', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });
  const serve = async (status: number, body: string, delayMs = 0) => {
    const s = await answering(status, body, delayMs);
    servers.push(s.server);
    return s;
  };

  it('any web server answering /health with 200 is not a healthy CCO daemon (python3 -m http.server)', async () => {
    const s = await serve(200, '<html>directory listing</html>');
    expect(await probeHealth(s.url)).toEqual({ kind: 'other', status: 200 });
    expect(await isHealthy(s.url)).toBe(false);
    const json = await serve(200, '{"status":"ok"}');
    expect(await isHealthy(json.url)).toBe(false);
    expect(await probeHealth('http://127.0.0.1:9')).toEqual({ kind: 'none' });
  });

  it('a CCO daemon is told by its report: healthy on 200, not on 503', async () => {
    const ok = await serve(200, daemonHealth('/home/a/analytics.db'));
    expect(await isHealthy(ok.url)).toBe(true);
    expect(await probeHealth(ok.url)).toMatchObject({ kind: 'cco', healthy: true, pid: process.pid, database: '/home/a/analytics.db' });
    const degraded = await serve(503, daemonHealth('/home/a/analytics.db'));
    expect(await isHealthy(degraded.url)).toBe(false);
  });

  it('waits as long as /health may take: a daemon whose Redis is down answers after a part’s check ran out (HEALTH_CHECK_MS)', async () => {
    // the database or Redis check, then the parts' checks beside the SQLite write probe
    expect(HEALTH_ANSWER_MS).toBeGreaterThan(2 * HEALTH_CHECK_MS);
    expect(HEALTH_ANSWER_MS).toBeGreaterThan(HEALTH_CHECK_MS + WRITE_PROBE_MS);
    const slow = await serve(503, daemonHealth('/home/a/analytics.db'), HEALTH_CHECK_MS + 200);
    const [probe, answer] = await Promise.all([probeHealth(slow.url), whoAnswers(slow.url, slow.port, '/home/a/analytics.db')]);
    expect(probe).toMatchObject({ kind: 'cco', healthy: false, pid: process.pid });
    expect(answer).toMatchObject({ kind: 'mine', pid: process.pid });
  }, 10_000);

  it("this home's daemon reports this home's store and holds the port; another home's is foreign", async () => {
    const s = await serve(200, daemonHealth('/home/a/analytics.db'));
    expect(await whoAnswers(s.url, s.port, '/home/a/analytics.db')).toMatchObject({ kind: 'mine', pid: process.pid });
    expect(await whoAnswers(s.url, s.port, '/home/b/analytics.db')).toEqual({ kind: 'foreign', pid: process.pid, database: '/home/a/analytics.db' });
    // a pid that is not the process holding the port is never taken for the daemon
    const relayed = await serve(200, daemonHealth('/home/a/analytics.db', process.ppid));
    expect((await whoAnswers(relayed.url, relayed.port, '/home/a/analytics.db')).kind).toBe('foreign');
  });

  it('stop without a lock record does not touch a daemon of another home, nor a server that is not CCO', async () => {
    const t = tempCcoEnv();
    try {
      const paths = resolvePaths(t.env);
      const foreign = await serve(200, daemonHealth('/elsewhere/analytics.db'));
      const r = await stopDaemon(paths, foreign.port, { target: { baseUrl: foreign.url, store: paths.databaseFile } });
      expect(r).toMatchObject({ stopped: false, answer: { kind: 'foreign', pid: process.pid } });
      const other = await serve(200, 'hello');
      expect(await stopDaemon(paths, other.port, { target: { baseUrl: other.url, store: paths.databaseFile } })).toMatchObject({ stopped: false, answer: { kind: 'other' } });
    } finally {
      t.cleanup();
    }
  });

  it('names the process holding a port where something else answers', async () => {
    const s = await serve(200, 'hello');
    const m = notCcoMessage(s.url, s.port, 'cco daemon start --port {port}');
    expect(m).toContain(`not a CCO daemon answers on ${s.url}`);
    expect(m).toContain(`(PID ${process.pid})`);
    expect(m).toContain(`kill ${process.pid}`);
    // from port + 2 on, a port that is free with its next one (the new daemon's sidecar)
    expect(Number(/cco daemon start --port (\d+)/.exec(m)?.[1])).toBeGreaterThanOrEqual(s.port + 2);
  });
});
