import { setRoutes } from './api';
import type { HubMessage } from './model';
import type { DashboardState } from './state';

interface Session {
  authenticated: boolean;
  version?: string;
  boot?: string;
  terminal?: { enabled: boolean; reason?: string };
  routes?: string[];
}

/** Reconnect delays: 0.5 s doubling to 10 s, with jitter so many tabs do not stampede. */
export function backoffMs(attempt: number): number {
  const base = Math.min(10_000, 500 * 2 ** Math.min(attempt, 8));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/**
 * The page's link to the daemon's hub (`/ws`). Checks the session first (is the daemon up, is
 * the cookie valid), then streams messages into the state. On loss it shows Disconnected and
 * retries with backoff; when it is back it resumes after the last seen message — or, if the
 * daemon restarted (a new boot id), starts over from its replay — and asks every view to
 * reload its REST data.
 */
export class LiveConnection {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastSeq = 0;
  private boot: string | undefined;
  private lastFrameAt = 0;
  private everOpened = false;
  private stopped = false;
  session: Session | undefined;
  /** When the next attempt is due (for the banner's countdown). */
  nextAttemptAt = 0;
  private readonly reconnectListeners = new Set<() => void>();

  constructor(private readonly state: DashboardState) {}

  /** Called every time the connection opens (the first time and after each reconnection). */
  onReconnect(l: () => void): () => void {
    this.reconnectListeners.add(l);
    return () => this.reconnectListeners.delete(l);
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    this.ws?.close();
  }

  /** Try now instead of waiting for the backoff (the banner's "Retry now"). */
  retryNow(): void {
    clearTimeout(this.timer);
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    if (this.state.conn !== 'open') this.state.setConn(this.everOpened ? 'disconnected' : 'connecting', 'checking the daemon…');
    // Beyond loopback (team mode) the daemon itself answers 401 without the cookie.
    let session: Session | undefined;
    try {
      const r = await fetch('/api/dashboard/session', { credentials: 'same-origin', signal: AbortSignal.timeout(4000) });
      session = r.status === 401 ? { authenticated: false } : r.ok ? ((await r.json()) as Session) : undefined;
    } catch {
      session = undefined;
    }
    if (!session) return this.retryLater('the daemon does not answer');
    this.session = session;
    setRoutes(session.routes);
    if (!session.authenticated) {
      this.state.setConn('unauthorized', 'Open the dashboard with `cco dashboard` (it carries the access token).');
      return this.retryLater('unauthorized', 5000);
    }
    const restarted = this.boot !== undefined && session.boot !== this.boot;
    if (restarted) {
      this.lastSeq = 0;
      this.state.reset();
    }
    this.boot = session.boot;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // the boot our cursor counts in: /ws may reach another instance than the session did (a
    // team behind a balancer); its hello then says to start over
    const url = `${proto}//${location.host}/ws?boot=${encodeURIComponent(this.boot ?? '')}${this.lastSeq ? `&after=${this.lastSeq}` : ''}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return this.retryLater('WebSocket failed');
    }
    this.ws = ws;
    ws.onopen = () => {
      this.everOpened = true;
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.state.setConn('open');
      this.startHeartbeat(ws);
      for (const l of this.reconnectListeners) l();
    };
    ws.onmessage = (ev) => {
      this.lastFrameAt = Date.now();
      let m: HubMessage;
      try {
        m = JSON.parse(String(ev.data)) as HubMessage;
      } catch {
        return;
      }
      if (m.type === 'pong') return;
      if (m.type === 'hello') {
        const hello = m.data as { boot?: string; reset?: boolean } | null;
        if (hello?.reset) {
          this.lastSeq = 0;
          this.state.reset();
          for (const l of this.reconnectListeners) l();
        }
        if (typeof hello?.boot === 'string') this.boot = hello.boot;
        return;
      }
      if (typeof m.seq === 'number' && m.seq <= this.lastSeq) return; // replay overlap
      if (typeof m.seq === 'number') this.lastSeq = m.seq;
      this.state.apply(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      clearInterval(this.heartbeat);
      this.retryLater('connection lost');
    };
    // onerror is always followed by onclose; nothing to do twice.
    ws.onerror = () => undefined;
  }

  /** A silent half-open socket is detected by pinging and expecting some frame back. */
  private startHeartbeat(ws: WebSocket): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastFrameAt > 40_000) {
        ws.close();
        return;
      }
      ws.send(JSON.stringify({ type: 'ping' }));
    }, 15_000);
  }

  private retryLater(reason: string, fixedMs?: number): void {
    if (this.stopped) return;
    if (this.state.conn !== 'unauthorized' || reason !== 'unauthorized') this.state.setConn(reason === 'unauthorized' ? 'unauthorized' : 'disconnected', reason);
    const delay = fixedMs ?? backoffMs(this.attempt++);
    this.nextAttemptAt = Date.now() + delay;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.state.changed();
  }
}
