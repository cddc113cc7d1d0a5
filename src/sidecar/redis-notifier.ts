import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { EventHeader } from './events-repo.js';
import type { WakeNotifier } from './bus.js';
import { redisChannel } from '../core/redis-channel.js';

/** A command unanswered this long means a dead link: ioredis cuts it and reconnects. */
const SOCKET_TIMEOUT_MS = 5000;
const SUBSCRIBER_PING_MS = 10_000;

/**
 * Wake-ups across daemon instances over Redis pub/sub. The store stays the source of truth:
 * a message only tells waiters to read it. Local consumers are woken directly (no round trip);
 * our own messages coming back from Redis are ignored.
 */
export class RedisNotifier implements WakeNotifier {
  readonly kind = 'redis' as const;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly fns = new Set<(h: EventHeader | undefined) => void>();
  private readonly instance = randomUUID();
  private readonly channel: string;
  private ready: Promise<void>;
  private readonly pinger: NodeJS.Timeout;

  constructor(url: string, prefix = 'cco:') {
    this.channel = redisChannel(url, `${prefix}sidecar:events`);
    // socketTimeout: a link that takes a command and never answers (a dropped NAT entry, a proxy
    // that accepts and forwards nothing) is cut and reconnected, instead of waiting for ever
    const opts = { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true, socketTimeout: SOCKET_TIMEOUT_MS };
    this.pub = new Redis(url, opts);
    // autoResubscribe off: ioredis's own SUBSCRIBE after a reconnect has no rejection handler, and a
    // link closed during it was an unhandled rejection (seen in CI); this class subscribes on 'ready'
    this.sub = new Redis(url, { ...opts, autoResubscribe: false });
    // connection errors are retried by ioredis; health() reports them
    this.pub.on('error', () => undefined);
    this.sub.on('error', () => undefined);
    // A subscriber sends nothing of its own: a ping now and then is what lets socketTimeout see a dead link.
    this.pinger = setInterval(() => {
      if (this.sub.status === 'ready') this.sub.ping().catch(() => undefined);
    }, SUBSCRIBER_PING_MS);
    this.pinger.unref();
    // Wake-ups published while this instance's link was down were dropped (the events are stored):
    // once it is back, every other instance is told to read the store again.
    let connectedBefore = false;
    this.pub.on('ready', () => {
      if (connectedBefore) this.pub.publish(this.channel, JSON.stringify({ from: this.instance, h: null })).catch(() => undefined);
      connectedBefore = true;
    });
    this.sub.on('message', (ch: string, raw: string) => {
      if (ch !== this.channel) return;
      try {
        const m = JSON.parse(raw) as { from: string; h: EventHeader | null };
        if (m.from === this.instance) return;
        this.local(m.h ?? undefined);
      } catch {
        // not ours
      }
    });
    // Every (re)connection subscribes again (a new connection holds no subscription). Messages
    // published while the link was down are lost: every local consumer reads the store again.
    // (On the first connection the constructor's SUBSCRIBE may still be queued: a second one for
    // the same channel changes nothing.)
    this.sub.on('ready', () => {
      this.subscribed = false;
      this.ready = this.subscribeNow().then(() => this.resync());
    });
    this.ready = this.subscribeNow();
  }

  private resync(): void {
    if (this.subscribed) this.local(undefined);
  }

  private subscribed = false;

  private subscribeNow(): Promise<void> {
    return this.sub.subscribe(this.channel).then(
      () => {
        this.subscribed = true;
      },
      () => undefined,
    );
  }

  /** Resolves once the subscription is active (tests, startup). */
  async whenReady(): Promise<void> {
    await this.ready;
  }

  /**
   * Not awaited by publishers: the event is already stored, and a slow or unreachable Redis
   * must not hold up the acknowledgement (remote waiters then find it on their next read).
   */
  async notify(h: EventHeader): Promise<void> {
    this.local(h);
    this.pub.publish(this.channel, JSON.stringify({ from: this.instance, h })).catch(() => undefined);
  }

  onWake(fn: (h: EventHeader | undefined) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }

  /** Answers at once when a link is down (a ping would wait in ioredis's queue for reconnects). */
  async healthy(): Promise<boolean> {
    if (this.pub.status !== 'ready' || this.sub.status !== 'ready') return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), 500)));
      return (await Promise.race([this.pub.ping(), late])) === 'PONG';
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    this.fns.clear();
    this.ready = Promise.resolve();
    this.sub.disconnect();
    if (this.pub.status === 'ready') await this.pub.quit().catch(() => this.pub.disconnect());
    else this.pub.disconnect();
  }

  private local(h: EventHeader | undefined): void {
    for (const f of this.fns) f(h);
  }
}
