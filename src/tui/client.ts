import WebSocket from 'ws';
import { httpJson } from '../core/http-json.js';
import { TOKEN_HEADER } from '../server/security.js';
import type { TuiMessage, TuiState } from './state.js';

export type TuiConn = 'connecting' | 'open' | 'disconnected' | 'unauthorized';

export interface Snapshot {
  cache?: { hitRate?: number; hits?: number; misses?: number; entries?: number };
  /** Today's cost from the gateway's analytics (all requests, not only those seen live). */
  costToday?: number;
  status?: { version?: string; uptime_seconds?: number; memory_usage_mb?: number; parts?: Record<string, { status: string }> };
}

/**
 * The TUI's link to a daemon: `/ws` with the access token (replay, then live), reconnecting
 * with backoff (0.5 s doubling to 10 s), plus a few REST snapshots (status, cache stats,
 * pipeline agents and tasks) loaded on connect and every few seconds.
 */
export class TuiClient {
  conn: TuiConn = 'connecting';
  detail = '';
  snapshot: Snapshot = {};
  private ws: WebSocket | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The hub boot our cursor (the state's lastSeq) counts in, from its hello. */
  private boot: string | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly state: TuiState,
    private readonly onChange: () => void,
  ) {}

  start(): void {
    this.connect();
    this.poller = setInterval(() => void this.poll(), 3000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.poller);
    this.ws?.terminate();
  }

  private headers(): Record<string, string> {
    return { [TOKEN_HEADER]: this.token };
  }

  private connect(): void {
    if (this.stopped) return;
    // the boot our cursor counts in: another one's hello (a restarted daemon, another instance) says to start over
    const after = this.state.lastSeq ? `&after=${this.state.lastSeq}` : '';
    const ws = new WebSocket(`${this.baseUrl.replace(/^http/, 'ws')}/ws?boot=${encodeURIComponent(this.boot ?? '')}${after}`, { headers: this.headers() });
    this.ws = ws;
    ws.on('open', () => {
      this.attempt = 0;
      this.set('open', '');
      void this.poll();
    });
    ws.on('message', (raw) => {
      try {
        const m = JSON.parse(String(raw)) as TuiMessage;
        if (m.type === 'hello') {
          const hello = m.data as { boot?: string; reset?: boolean } | null;
          if (hello?.reset) this.state.reset();
          if (typeof hello?.boot === 'string') this.boot = hello.boot;
          return;
        }
        if (m.type === 'pong' || m.seq <= this.state.lastSeq) return;
        this.state.apply(m);
        this.onChange();
      } catch {
        // not JSON
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 401) this.set('unauthorized', 'the access token was refused (is this the daemon of this home?)');
      ws.terminate();
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (this.ws !== ws || this.stopped) return;
      if (this.conn !== 'unauthorized') this.set('disconnected', 'connection lost');
      const delay = Math.min(10_000, 500 * 2 ** Math.min(this.attempt++, 8));
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  private set(conn: TuiConn, detail: string): void {
    this.conn = conn;
    this.detail = detail;
    this.onChange();
  }

  private async get<T>(path: string): Promise<T | undefined> {
    try {
      const r = await httpJson<T>('GET', `${this.baseUrl}${path}`, undefined, { timeoutMs: 3000, headers: this.headers() });
      return r.status === 200 ? r.body : undefined;
    } catch {
      return undefined;
    }
  }

  /** REST snapshots: status, cache, agents, tasks. */
  private async poll(): Promise<void> {
    if (this.conn !== 'open') return;
    const status = await this.get<Snapshot['status']>('/api/status');
    const [cache, agents, tasks, sessions, today] = await Promise.all([
      this.get<Snapshot['cache']>('/api/cache/stats'),
      this.get<{ agents?: Record<string, Record<string, unknown>> | Record<string, unknown>[] }>('/api/agents'),
      this.get<{ tasks?: Record<string, unknown>[] }>('/api/tasks?limit=50'),
      this.get<{ live?: Record<string, unknown>[] }>('/api/sessions'),
      this.get<{ cost?: number }>(`/api/project/stats?since=${new Date().setHours(0, 0, 0, 0)}`),
    ]);
    const now = Date.now();
    const agentList = agents?.agents ? (Array.isArray(agents.agents) ? agents.agents : Object.values(agents.agents)) : [];
    for (const a of agentList) this.state.agent(a as Record<string, unknown>, now);
    for (const s of sessions?.live ?? []) this.state.agent(s, now);
    for (const t of tasks?.tasks ?? []) this.state.task(t, now);
    this.snapshot = { ...(cache ? { cache } : {}), ...(status ? { status } : {}), ...(typeof today?.cost === 'number' ? { costToday: today.cost } : {}) };
    this.onChange();
  }
}
