import { withTimeout } from '../core/timeout.js';
import type { Readable, Writable } from 'node:stream';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { PROJECT_ROOT_HEADER } from './claude-mcp-config.js';
import { MCP_BODY_LIMIT } from './limits.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage, JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';

export interface BridgeOptions {
  /** The daemon's MCP endpoint, e.g. http://127.0.0.1:3000/mcp. */
  url: string;
  /** Bearer key sent with every request. */
  key: string;
  stdin?: Readable;
  stdout?: Writable;
  /** Diagnostics (stderr); stdout carries the protocol only. */
  log?: (line: string) => void;
  /** The folder the client works in, sent as `x-cco-project-root` (get_context's default root). */
  projectRoot?: string;
  /**
   * Starts the daemon when it is found down mid-session, as `cco mcp` does at start-up, and
   * returns the MCP endpoint to use. Absent (`--no-start`, `--url`), a call made while the daemon
   * is down is answered with an error saying how to start it.
   */
  startDaemon?: () => Promise<string>;
}

/** How long the bridge waits for the daemon to answer its own replayed `initialize`. */
const REINIT_TIMEOUT_MS = 15_000;
/** When stdin closes, how long calls still running may take to be answered before the bridge ends (a one-shot script's last call). */
const DRAIN_TIMEOUT_MS = 60_000;
/** How long the daemon's /health may take when the bridge asks whether it is still the same daemon. */
const PROBE_TIMEOUT_MS = 2000;

type Lost = 'session_lost' | 'daemon_down';

/** A failure the bridge explains itself (sent to the client as it is). */
class BridgeError extends Error {}

/**
 * Why a POST to the daemon failed, when a new session can fix it: the daemon no longer knows the
 * session (it restarted, or closed the session as idle or over its caps: 404), or nothing listens
 * (a refused or reset connection: fetch throws a TypeError).
 */
function lostBecause(e: unknown): Lost | undefined {
  if (e instanceof StreamableHTTPError && e.code === 404) return 'session_lost';
  if (e instanceof TypeError) return 'daemon_down';
  return undefined;
}

const isRequest = (m: JSONRPCMessage): m is JSONRPCRequest => 'method' in m && 'id' in m && m.id !== undefined;
const isInitialize = (m: JSONRPCMessage): m is JSONRPCRequest => isRequest(m) && m.method === 'initialize';

/**
 * `cco mcp`: the daemon's MCP server over stdio. Every JSON-RPC message from stdin is forwarded to
 * `/mcp` (Streamable HTTP, same session, same key) and every message from the daemon is written to
 * stdout, so a stdio client gets exactly the daemon's tools. When the daemon loses the session (it
 * restarted) the bridge replays the client's `initialize` for a new one and retries the message
 * once; the stdio client never sees the change. Resolves when stdin closes.
 */
export function bridgeStdioToHttp(o: BridgeOptions): Promise<void> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const stdio = new StdioServerTransport(o.stdin, o.stdout);
  const initIds = new Set<string | number>();
  /** Replies to the bridge's own replayed `initialize`, by id. */
  const own = new Map<string, (m: JSONRPCMessage) => void>();
  let url = o.url;
  let savedInit: JSONRPCRequest | undefined;
  let clientInitialized = false;
  let protocolVersion: string | undefined;
  /** Bumped with each new HTTP transport: a failure on an older one is not a reason to reconnect again. */
  let generation = 0;
  let recovering: Promise<void> | undefined;
  let reinits = 0;
  let shuttingDown = false;
  /** The client's calls sent to the daemon and not yet answered, with the transport generation each went on. */
  const pending = new Map<string | number, number>();
  const drained: (() => void)[] = [];
  /** The daemon process the session belongs to (its /health pid), to tell a restarted daemon from a stream that broke. */
  let daemonPid: number | undefined;
  const settled = (id: string | number): void => {
    if (!pending.delete(id) || pending.size > 0) return;
    for (const f of drained.splice(0)) f();
  };

  const connect = (): StreamableHTTPClientTransport => {
    const headers: Record<string, string> = { authorization: `Bearer ${o.key}` };
    if (o.projectRoot) headers[PROJECT_ROOT_HEADER] = encodeURI(o.projectRoot);
    const t = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
    t.onmessage = (m) => fromDaemon(m);
    // a lost session or daemon is reported once, by the recovery, not by every failed POST
    t.onerror = (e) => {
      // closing the bridge aborts the transport's open SSE stream: that is the end, not a failure
      if (shuttingDown || t !== http || isAbort(e)) return;
      if (!lostBecause(e)) log(`⚠️  ${e.message}`);
      // a call's answer stream broke: if the daemon stopped or restarted, its calls are never answered
      if (/SSE stream disconnected|Maximum reconnection attempts/.test(e.message)) void failCallsOfGoneDaemon(generation);
    };
    if (protocolVersion) t.setProtocolVersion(protocolVersion);
    return t;
  };
  let http = connect();

  /** The daemon's pid from its /health, or undefined when it does not answer. */
  async function probePid(): Promise<number | undefined> {
    try {
      const r = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const body = (await r.json()) as { pid?: unknown };
      return typeof body.pid === 'number' ? body.pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * After a broken answer stream: when the daemon is down, or another process answers (it
   * restarted: the session and its calls are gone), every call still waiting on transport
   * `sentOn` is answered with an error to call again, instead of hanging until the client's own
   * timeout. The next call starts a new session (and the daemon, when allowed).
   */
  async function failCallsOfGoneDaemon(sentOn: number): Promise<void> {
    const pid = await probePid();
    if (pid !== undefined && (daemonPid === undefined || pid === daemonPid)) return;
    for (const [id, gen] of [...pending]) {
      if (gen !== sentOn) continue;
      settled(id);
      void stdio.send({ jsonrpc: '2.0', id, error: { code: -32000, message: `The cco daemon at ${url} ${pid === undefined ? 'stopped' : 'restarted'} during this call; call again` } });
    }
  }

  function fromDaemon(m: JSONRPCMessage): void {
    if (!('method' in m) && 'id' in m && m.id !== undefined) settled(m.id);
    if ('id' in m && typeof m.id === 'string' && own.has(m.id) && !('method' in m)) {
      own.get(m.id)?.(m);
      own.delete(m.id);
      return;
    }
    // The version negotiated at initialize goes on every later request (MCP-Protocol-Version).
    if ('id' in m && m.id !== undefined && initIds.has(m.id) && 'result' in m) {
      initIds.delete(m.id);
      const v = (m.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof v === 'string') {
        protocolVersion = v;
        http.setProtocolVersion(v);
      }
    }
    void stdio.send(m);
  }

  /** A new session on a fresh transport: the client's `initialize` replayed, then `initialized`. */
  async function handshake(init: JSONRPCRequest): Promise<void> {
    const id = `cco-bridge-reinit-${++reinits}`;
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<JSONRPCMessage>((resolve, reject) => {
      own.set(id, resolve);
      timer = setTimeout(() => reject(new Error(`the daemon did not answer initialize within ${REINIT_TIMEOUT_MS / 1000} s`)), REINIT_TIMEOUT_MS);
    });
    try {
      await http.send({ ...init, id });
      const r = await reply;
      if ('error' in r) throw new Error(`the daemon refused a new session: ${r.error.message}`);
      const v = 'result' in r ? (r.result as { protocolVersion?: unknown }).protocolVersion : undefined;
      if (typeof v === 'string') {
        protocolVersion = v;
        http.setProtocolVersion(v);
      }
    } finally {
      clearTimeout(timer);
      own.delete(id);
    }
    if (clientInitialized) await http.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  /** Replaces the HTTP transport with one on a new session (starting the daemon first when it is down and allowed). */
  async function reconnect(why: Lost, replay: boolean): Promise<void> {
    if (why === 'daemon_down') {
      if (!o.startDaemon) throw new BridgeError(`The cco daemon at ${url} is not running; start it with \`cco daemon start --port ${new URL(url).port}\` and call again.`);
      log(`↻ the cco daemon at ${url} is down; starting it`);
      url = await o.startDaemon();
    }
    const old = http;
    http = connect();
    generation++;
    await old.close().catch(() => undefined);
    await http.start();
    daemonPid = await probePid();
    if (replay && savedInit) {
      await handshake(savedInit);
      log(`↻ new MCP session with the cco daemon at ${url} (the previous one was lost)`);
    }
  }

  /** One reconnection at a time; a message that failed on an older transport just waits for it. */
  function recover(sentOn: number, why: Lost, replay: boolean): Promise<void> {
    if (sentOn !== generation) return recovering ?? Promise.resolve();
    if (!recovering) {
      const p = reconnect(why, replay);
      const done = () => {
        if (recovering === p) recovering = undefined;
      };
      recovering = p;
      p.then(done, done);
    }
    return recovering;
  }

  function answer(m: JSONRPCMessage, e: unknown): void {
    const message = e instanceof BridgeError ? e.message : `cco daemon at ${url}: ${(e as Error).message}`;
    log(`❌ ${message}`);
    if (isRequest(m)) {
      settled(m.id);
      void stdio.send({ jsonrpc: '2.0', id: m.id, error: { code: -32000, message } });
    }
  }

  /** Forwards one client message; a lost session or daemon is recovered once and the message retried. */
  async function forward(m: JSONRPCMessage): Promise<void> {
    // the daemon refuses a larger body by closing the upload, which reads as "daemon down" (a
    // second daemon started for nothing, the call sent again): said here, with the limit
    const size = Buffer.byteLength(JSON.stringify(m));
    if (size > MCP_BODY_LIMIT) {
      log(`❌ a request of ${(size / 1024 / 1024).toFixed(1)} MB: the daemon takes at most ${MCP_BODY_LIMIT / 1024 / 1024} MB`);
      if (isRequest(m)) void stdio.send({ jsonrpc: '2.0', id: m.id, error: { code: -32600, message: `Request too large: ${(size / 1024 / 1024).toFixed(1)} MB; the cco daemon takes MCP requests of at most ${MCP_BODY_LIMIT / 1024 / 1024} MB (store large content in a file and pass its path)` } });
      return;
    }
    if (isInitialize(m)) {
      savedInit = m;
      initIds.add(m.id);
    }
    if ('method' in m && m.method === 'notifications/initialized') clientInitialized = true;
    if (recovering) await recovering.catch(() => undefined);
    const sentOn = generation;
    if (isRequest(m)) pending.set(m.id, sentOn);
    try {
      await http.send(m);
      return;
    } catch (e) {
      const why = lostBecause(e);
      // `initialized` is replayed by the recovery itself; before any initialize there is nothing to replay
      const retry = why !== undefined && (isInitialize(m) || savedInit !== undefined) && !('method' in m && m.method === 'notifications/initialized');
      if (!retry) return answer(m, e);
      try {
        await recover(sentOn, why, !isInitialize(m));
        if (isRequest(m)) pending.set(m.id, generation);
        await http.send(m);
      } catch (e2) {
        answer(m, e2);
      }
    }
  }

  return new Promise<void>((resolve, reject) => {
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      // stdin ended (a one-shot script): the calls already sent are answered first, for a while
      if (pending.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((r) => drained.push(r)), new Promise<void>((r) => (timer = setTimeout(r, DRAIN_TIMEOUT_MS)))]);
        clearTimeout(timer);
      }
      shuttingDown = true;
      // the daemon's session ends with the bridge (DELETE /mcp): left open, each run held one for
      // an hour, and a hundred of them made the tenant's cap close live ones (Claude Code's)
      await withTimeout(http.terminateSession(), 2000, 'the daemon').catch(() => undefined);
      await http.close().catch(() => undefined);
      await stdio.close().catch(() => undefined);
      resolve();
    };
    stdio.onmessage = (m: JSONRPCMessage) => void forward(m);
    stdio.onerror = (e) => log(`⚠️  stdin: ${e.message}`);
    stdio.onclose = () => void close();
    (o.stdin ?? process.stdin).once('end', () => void close());
    http
      .start()
      .then(() => stdio.start())
      .then(async () => {
        daemonPid ??= await probePid();
      })
      .catch(reject);
  });
}

/** An abort (the bridge closing its own transport, or an old one it replaced). */
function isAbort(e: Error): boolean {
  return e.name === 'AbortError' || /operation was aborted/i.test(e.message);
}
