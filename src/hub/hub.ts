import { randomUUID } from 'node:crypto';
/**
 * The daemon's live message hub: every state change a person might watch (agent activity,
 * task updates, log lines, hook events, gateway requests) is published here once and fanned
 * out to WebSocket clients, the TUI and tests. Recent messages are kept so that a page opened
 * late can replay them and be complete.
 */
export interface HubMessage<T = unknown> {
  /** Monotonic per hub; a client resumes with `?after=<seq>`. */
  seq: number;
  type: string;
  ts: number;
  data: T;
  /**
   * Only on a message relayed from another daemon of a team (`relay.ts`): the instance that
   * published it (`host:port`). This daemon's own messages have none.
   */
  instance?: string;
}

export type HubListener = (msg: HubMessage) => void;

/** Message types with a meaning fixed across modules (others may be added freely). */
export type KnownHubType =
  | 'agent_activity'
  | 'task_update'
  | 'log'
  | 'file_created'
  | 'hook_event'
  | 'gateway_request'
  | 'event_published'
  | 'improvement_cycle'
  | 'health';

export class Hub {
  /**
   * This hub's numbering: `seq` counts within it. A client resuming with `?after=` names the
   * boot it counted in (`?boot=`); a cursor of another one (a restarted daemon, another
   * instance of a team behind a balancer) means nothing here.
   */
  readonly boot = randomUUID();
  private seq = 0;
  /** Circular buffer of the last `capacity` messages; message `seq` sits at `seq % capacity`. */
  private readonly ring: (HubMessage | undefined)[];
  private readonly listeners = new Set<HubListener>();

  constructor(private readonly capacity = 1000) {
    this.ring = new Array<HubMessage | undefined>(capacity);
  }

  publish<T>(type: KnownHubType | (string & {}), data: T): HubMessage<T> {
    return this.deliver({ seq: ++this.seq, type, ts: Date.now(), data });
  }

  /**
   * A message another instance published (relayed over Redis): numbered here on arrival, like
   * a local one, so that `?after=<seq>` resumes across both; `ts` stays the publisher's.
   */
  receive(type: string, data: unknown, ts: number, instance: string): HubMessage {
    return this.deliver({ seq: ++this.seq, type, ts, data, instance });
  }

  private deliver<T>(msg: HubMessage<T>): HubMessage<T> {
    // Overwrites the oldest in place: dropping it from the front of an array costs O(capacity).
    this.ring[msg.seq % this.capacity] = msg;
    for (const l of this.listeners) {
      try {
        l(msg);
      } catch {
        // one broken listener must not stop the others
      }
    }
    return msg;
  }

  /** Messages after `afterSeq` (all kept ones by default), optionally of some types only. */
  recent(opts: { afterSeq?: number; types?: readonly string[]; limit?: number } = {}): HubMessage[] {
    const out: HubMessage[] = [];
    for (let seq = Math.max(1, this.seq - this.capacity + 1, (opts.afterSeq ?? 0) + 1); seq <= this.seq; seq++) {
      const m = this.ring[seq % this.capacity] as HubMessage;
      if (!opts.types?.length || opts.types.includes(m.type)) out.push(m);
    }
    return out.slice(-(opts.limit ?? this.capacity));
  }

  subscribe(l: HubListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get lastSeq(): number {
    return this.seq;
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }
}
