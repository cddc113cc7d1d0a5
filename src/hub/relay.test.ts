import { describe, expect, it } from 'vitest';
import { Hub } from './hub.js';
import { HubRelay } from './relay.js';

describe('HubRelay without a reachable Redis', () => {
  it('never blocks or breaks local publishing, and logs the outage once', async () => {
    const hub = new Hub();
    const warnings: string[] = [];
    const logger = { warn: (_o: object, msg: string) => warnings.push(msg), info: () => undefined };
    const relay = new HubRelay(hub, { url: 'redis://127.0.0.1:1', prefix: 'cco-test:', instance: 'a:1', logger });
    try {
      const seen: number[] = [];
      hub.subscribe((m) => seen.push(m.data as number));
      const t0 = performance.now();
      for (let i = 0; i < 10_000; i++) hub.publish('gateway_request', i);
      expect(performance.now() - t0).toBeLessThan(500);
      expect(seen).toHaveLength(10_000);
      // ioredis retries the connection a few times meanwhile: still one warning
      await new Promise((r) => setTimeout(r, 1500));
      for (let i = 0; i < 100; i++) hub.publish('log', i);
      await new Promise((r) => setImmediate(r));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/hub relay: Redis unreachable/);
      expect(relay.healthy()).toBe(false);
    } finally {
      await relay.close();
    }
  });
});
