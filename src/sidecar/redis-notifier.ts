import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { EventHeader } from './events-repo.js';
import type { WakeNotifier } from './bus.js';

/**
 * Wake-ups across daemon instances over Redis pub/sub. The store stays the source of truth:
 * a message only tells waiters to read it. Local consumers are woken directly (no round trip);
 * our own messages coming back from Redis are ignored.
 */
export class RedisNotifier implements WakeNotifier {
  readonly kind = 'redis' as const;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly fns = new Set<(h: EventHeader) => void>();
  private readonly instance = randomUUID();
  private readonly channel: string;
  private ready: Promise<unknown>;

  constructor(url: string, prefix = 'cco:') {
    this.channel = `${prefix}sidecar:events`;
    const opts = { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.pub = new Redis(url, opts);
    this.sub = new Redis(url, opts);
    // connection errors are retried by ioredis; health() reports them
    this.pub.on('error', () => undefined);
    this.sub.on('error', () => undefined);
    this.sub.on('message', (ch: string, raw: string) => {
      if (ch !== this.channel) return;
      try {
        const m = JSON.parse(raw) as { from: string; h: EventHeader };
        if (m.from === this.instance) return;
        this.local(m.h);
      } catch {
        // not ours
      }
    });
    this.ready = this.sub.subscribe(this.channel);
  }

  /** Resolves once the subscription is active (tests, startup). */
  async whenReady(): Promise<void> {
    await this.ready;
  }

  async notify(h: EventHeader): Promise<void> {
    this.local(h);
    try {
      await this.pub.publish(this.channel, JSON.stringify({ from: this.instance, h }));
    } catch {
      // the event is stored; remote waiters find it on their next read or timeout
    }
  }

  onWake(fn: (h: EventHeader) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }

  async healthy(): Promise<boolean> {
    try {
      return (await this.pub.ping()) === 'PONG' && this.sub.status === 'ready';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.fns.clear();
    this.ready = Promise.resolve();
    this.sub.disconnect();
    await this.pub.quit().catch(() => this.pub.disconnect());
  }

  private local(h: EventHeader): void {
    for (const f of this.fns) f(h);
  }
}
