import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Hub, HubMessage } from './hub.js';
import { redisChannel } from '../core/redis-channel.js';

/** A command unanswered this long means a dead link: ioredis cuts it and reconnects. */
const SOCKET_TIMEOUT_MS = 5000;
/** A subscriber sends nothing of its own: a ping now and then lets socketTimeout see a dead link. */
const SUBSCRIBER_PING_MS = 10_000;
/** Batches sent and not yet answered past which the link counts as stalled: more are dropped, not queued. */
const MAX_IN_FLIGHT = 1000;

/**
 * Types that describe this process only and are never relayed. `health` is this daemon's own
 * state (a client reads the daemon it is connected to). Every other type is relayed: `log`
 * lines too, each tagged with the instance that wrote it.
 */
export const INSTANCE_LOCAL_TYPES: readonly string[] = ['health'];

export interface RelayLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface HubRelayOptions {
  url: string;
  /** The team's key prefix (`cco:`): daemons with the same one see each other's messages on `<prefix>hub`. */
  prefix: string;
  /** This daemon as others' clients see it in the `instance` field (e.g. `host:port`). */
  instance: string;
  logger?: RelayLogger;
  /** Types never relayed (default INSTANCE_LOCAL_TYPES). */
  localTypes?: readonly string[];
}

/** One PUBLISH: `{"from":<random id>,"instance":<label>,"m":[{type,ts,data},...]}`. */
interface RelayBatch {
  from?: unknown;
  instance?: unknown;
  m?: unknown;
}

/**
 * Relays hub messages between the daemons of a team over Redis pub/sub, so that every
 * instance's `/ws` clients see what every instance publishes. Each local message is serialized
 * once; the messages of one tick go in one PUBLISH. Received ones enter the local hub with this
 * hub's next `seq` (`Hub.receive`) and are not relayed again; our own batches coming back are
 * skipped before parsing. While Redis is unreachable local publishing goes on untouched and
 * relays are dropped (not queued): logged once per outage, and once when it is back.
 */
export class HubRelay {
  readonly channel: string;
  private readonly pub: Redis;
  private readonly sub: Redis;
  /** Random: two instances may share a label, never an id. */
  private readonly id = randomBytes(8).toString('hex');
  private readonly ownHead: string;
  private readonly batchHead: string;
  private readonly localTypes: ReadonlySet<string>;
  private pending: string[] = [];
  private flushScheduled = false;
  private inFlight = 0;
  private subscribed = false;
  private down = false;
  private closed = false;
  private readonly ready: Promise<void>;
  private markReady = (): void => undefined;
  private readonly pinger: NodeJS.Timeout;
  private readonly offHub: () => void;

  constructor(
    private readonly hub: Hub,
    private readonly o: HubRelayOptions,
  ) {
    this.channel = redisChannel(o.url, `${o.prefix}hub`);
    this.ownHead = `{"from":${JSON.stringify(this.id)},`;
    this.batchHead = `${this.ownHead}"instance":${JSON.stringify(o.instance)},"m":[`;
    this.localTypes = new Set(o.localTypes ?? INSTANCE_LOCAL_TYPES);
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    // socketTimeout: a link that takes commands and never answers is cut and reconnected.
    // No offline queue on the publisher: a relay is sent now or dropped, never held for later.
    this.pub = new Redis(o.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, socketTimeout: SOCKET_TIMEOUT_MS });
    // autoResubscribe off: ioredis's own SUBSCRIBE after a reconnect has no rejection handler, and a
    // link closed during it was an unhandled rejection (seen in CI); this class subscribes on 'ready'
    this.sub = new Redis(o.url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, socketTimeout: SOCKET_TIMEOUT_MS, autoResubscribe: false });
    for (const conn of [this.pub, this.sub]) {
      conn.on('error', () => undefined); // retried by ioredis; the outage is logged once by 'close'
      conn.on('close', () => this.markDown('connection lost'));
    }
    this.pub.on('ready', () => this.checkUp());
    // every (re)connection subscribes again: a new connection holds no subscription
    this.sub.on('ready', () => {
      this.subscribed = false;
      this.subscribeNow();
    });
    this.sub.on('message', (ch: string, raw: string) => {
      if (ch === this.channel) this.onBatch(raw);
    });
    this.pinger = setInterval(() => {
      if (this.sub.status === 'ready') this.sub.ping().catch(() => undefined);
    }, SUBSCRIBER_PING_MS);
    this.pinger.unref();
    this.subscribeNow();
    this.offHub = hub.subscribe((m) => this.onLocal(m));
  }

  /** Resolves once this relay receives from the channel (tests, startup). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Both links up and subscribed: other instances' messages arrive, ours are sent. */
  healthy(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready' && this.subscribed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.offHub();
    clearInterval(this.pinger);
    this.pending = [];
    this.markReady();
    this.sub.disconnect();
    if (this.pub.status === 'ready') await this.pub.quit().catch(() => this.pub.disconnect());
    else this.pub.disconnect();
  }

  private subscribeNow(): void {
    this.sub.subscribe(this.channel).then(
      () => {
        this.subscribed = true;
        this.markReady();
        this.checkUp();
      },
      () => undefined, // retried on the next 'ready'
    );
  }

  private onLocal(m: HubMessage): void {
    // a relayed message (it has an instance) goes no further; nor does one of this process only
    if (m.instance !== undefined || this.localTypes.has(m.type) || this.closed) return;
    // while the link is down nothing is serialized, let alone queued
    if (this.pub.status !== 'ready') return;
    let json: string;
    try {
      json = JSON.stringify({ type: m.type, ts: m.ts, data: m.data });
    } catch {
      return; // not serializable (a cycle, a BigInt): the local clients had it anyway
    }
    this.pending.push(json);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Everything published during one tick, in one PUBLISH. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || this.closed || this.pub.status !== 'ready') return;
    if (this.inFlight >= MAX_IN_FLIGHT) return this.markDown('Redis is not answering');
    this.inFlight++;
    this.pub.publish(this.channel, `${this.batchHead}${batch.join(',')}]}`).then(
      () => {
        this.inFlight--;
        this.checkUp();
      },
      (e: unknown) => {
        this.inFlight--;
        this.markDown((e as Error).message);
      },
    );
  }

  private onBatch(raw: string): void {
    if (raw.startsWith(this.ownHead)) return; // our own, back from Redis
    let batch: RelayBatch;
    try {
      batch = JSON.parse(raw) as RelayBatch;
    } catch {
      return; // not a relay's
    }
    if (typeof batch.instance !== 'string' || !Array.isArray(batch.m)) return;
    for (const m of batch.m as { type?: unknown; ts?: unknown; data?: unknown }[]) {
      if (m && typeof m.type === 'string' && typeof m.ts === 'number') this.hub.receive(m.type, m.data, m.ts, batch.instance);
    }
  }

  private markDown(reason: string): void {
    if (this.down || this.closed) return;
    this.down = true;
    this.o.logger?.warn({ channel: this.channel, reason }, "hub relay: Redis unreachable; other instances' live messages are not seen here and this one's are dropped until it is back");
  }

  private checkUp(): void {
    if (!this.down || this.closed || !this.healthy() || this.inFlight >= MAX_IN_FLIGHT) return;
    this.down = false;
    this.o.logger?.info({ channel: this.channel }, 'hub relay: Redis is back; relaying live messages again');
  }
}
