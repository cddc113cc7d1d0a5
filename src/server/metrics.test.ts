import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics: the series the guides alert on', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(() => t.cleanup());
  const metrics = async () => (await fetch(`${t.url}/metrics`)).text();

  it('http_requests_total counts answers by status_code, the gateway’s lean /v1 path included', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${t.url}/api/no-such-route`)).status).toBe(404);
    const bad = await fetch(`${t.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(bad.status).toBe(400);
    const text = await metrics();
    expect(sample(text, 'http_requests_total{method="GET",route="unmatched",status_code="404"}')).toBe(3);
    expect(sample(text, 'http_requests_total{method="POST",route="/v1/messages",status_code="400"}')).toBe(1);
  });

  it('websocket_connections_active follows open and closed sockets', async () => {
    expect(sample(await metrics(), 'websocket_connections_active')).toBe(0);
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws?token=${t.token}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(sample(await metrics(), 'websocket_connections_active')).toBe(1);
    ws.close();
    await new Promise((r) => ws.once('close', r));
    await expect.poll(async () => sample(await metrics(), 'websocket_connections_active')).toBe(0);
  });
});
