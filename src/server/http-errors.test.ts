import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';

/** Sends raw bytes and returns what the server answered before closing. */
function rawHttp(url: string, request: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let out = '';
    sock.on('data', (d: Buffer) => (out += d.toString()));
    sock.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0);
      resolve({ status, body: out.slice(out.indexOf('\r\n\r\n') + 4) });
    });
    sock.on('error', reject);
    sock.write(request);
  });
}

describe('errors raised before any route runs are in the product shape', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(() => t.cleanup());

  it('a path parameter over the length limit is a 414 naming params', async () => {
    const r = await fetch(`${t.url}/api/tasks/t_${'a'.repeat(200)}`);
    expect(r.status).toBe(414);
    expect(await r.json()).toEqual({ error: { code: 'uri_too_long', message: expect.any(String), field: 'params' } });
  });

  it('headers over the limit (a huge query string) and malformed HTTP get JSON errors, then the connection closes', async () => {
    const host = new URL(t.url).host;
    const big = await rawHttp(t.url, `GET /api/status?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'headers_too_large' } });
    const bad = await rawHttp(t.url, `POST /api/status HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'bad_request', message: 'Malformed HTTP request' } });
  });
});
