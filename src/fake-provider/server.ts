import http from 'node:http';
import { constants as zlibConstants, createGzip, gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { anthropicError, anthropicMessage, anthropicStreamEvents } from './anthropic.js';
import { openaiCompletion, openaiError, openaiStreamEvents } from './openai.js';
import { isFault } from './types.js';
import type { FakeItem, FakeProtocol, FakeReply, FakeResponder, RecordedRequest } from './types.js';
import { approxTokens, fakeId } from './usage.js';

export type { FakeFault, FakeItem, FakeReply, FakeResponder, RecordedRequest } from './types.js';

export interface FakeProvider {
  /** e.g. http://127.0.0.1:41234 (no trailing slash, no /v1). */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Requests whose client went away before the answer was complete. */
  readonly disconnects: number;
  readonly activeRequests: number;
  /** One-shot answers, consumed in order before the responder is asked. */
  queue(...items: FakeItem[]): void;
  setResponder(r: FakeResponder): void;
  /** Every JSON answer (models, messages, errors) gzip-compressed, as a compressing proxy in between sends it; `reset()` turns it off. */
  compressJson: boolean;
  /** Forget recorded requests and queued items. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeProviderOptions {
  port?: number;
  host?: string;
  responder?: FakeResponder;
  /** Keep at most this many recorded requests (benchmarks: 0). Default 10,000. */
  recordLimit?: number;
}

/**
 * The demo / test LLM provider: a real HTTP server speaking the Anthropic Messages and OpenAI
 * Chat Completions wire protocols (JSON and SSE), with scripted replies and injectable faults.
 * It is not a model: replies are canned or scripted. CCO uses it for tests, benchmarks and the
 * offline demo, clearly labelled as such.
 */
export async function startFakeProvider(opts: FakeProviderOptions = {}): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const pending: FakeItem[] = [];
  let responder: FakeResponder = opts.responder ?? defaultResponder;
  let disconnects = 0;
  let active = 0;
  const limit = opts.recordLimit ?? 10_000;
  const hanging = new Set<http.ServerResponse>();
  const cut = new WeakSet<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      active++;
      let finished = false;
      res.on('close', () => {
        active--;
        hanging.delete(res);
        if (!finished && !res.writableFinished && !cut.has(res)) disconnects++;
      });
      res.on('finish', () => {
        finished = true;
      });
      const raw = Buffer.concat(chunks).toString('utf8');
      void handle(req, res, raw).catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: String((e as Error).message) } }));
        } else res.destroy();
      });
    });
  });
  server.keepAliveTimeout = 60_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    const method = req.method ?? 'GET';
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const protocol: FakeProtocol | undefined = path.startsWith('/v1/messages') ? 'anthropic' : path.startsWith('/v1/chat/completions') ? 'openai' : undefined;
    const rec: RecordedRequest = { method, path, query, headers: req.headers, body, raw, protocol, ts: Date.now() };
    if (limit > 0) {
      requests.push(rec);
      if (requests.length > limit) requests.splice(0, requests.length - limit);
    }
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(value);
      const bytes = fake.compressJson ? gzipSync(text) : Buffer.from(text);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length), 'request-id': fakeId('req'), 'x-request-id': fakeId('req'), ...(fake.compressJson ? { 'content-encoding': 'gzip' } : {}), ...headers });
      res.end(bytes);
    };
    if (method === 'HEAD') return void res.writeHead(200).end();
    if (method === 'GET' && path === '/health') return json(200, { status: 'ok', service: 'cco-demo-provider', note: 'canned replies, not a real model' });
    if (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      const models = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4o-mini'].map((id) => ({ id, object: 'model', type: 'model', display_name: id, created: 0, created_at: '2025-01-01T00:00:00Z', owned_by: 'cco-demo' }));
      if (path !== '/v1/models') {
        const one = models.find((m) => m.id === decodeURIComponent(path.slice('/v1/models/'.length)));
        return one ? json(200, one) : json(404, anthropicError(404, `model ${path.slice(11)} not found`));
      }
      // Anthropic's paging: ?limit=&after_id= → {data, has_more, first_id, last_id}
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const from = q.get('after_id') ? models.findIndex((m) => m.id === q.get('after_id')) + 1 : 0;
      const page = models.slice(from, from + Number(q.get('limit') ?? 20));
      return json(200, { object: 'list', data: page, has_more: from + page.length < models.length, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null });
    }
    if (method === 'POST' && path === '/v1/messages/count_tokens') {
      const b = (body ?? {}) as { messages?: unknown; system?: unknown; tools?: unknown };
      return json(200, { input_tokens: approxTokens([b.system, b.messages, b.tools]) });
    }
    if (method !== 'POST' || !protocol) return json(404, { type: 'error', error: { type: 'not_found_error', message: `fake provider: no route ${method} ${path}` } });
    if (body === undefined || typeof body !== 'object') {
      return json(400, protocol === 'anthropic' ? anthropicError(400, 'invalid JSON body') : openaiError(400, 'invalid JSON body'));
    }

    const item = pending.shift() ?? (await responder(rec));
    const model = (body as { model?: string }).model;
    const stream = (body as { stream?: boolean }).stream === true;
    const firstDelay = !isFault(item) ? item.firstByteDelayMs ?? 0 : 0;
    if (firstDelay > 0) await sleep(firstDelay);
    if (res.destroyed) return;

    if (isFault(item)) {
      switch (item.fault) {
        case 'status': {
          const err = item.body ?? (protocol === 'anthropic' ? anthropicError(item.status, `fake provider: injected ${item.status}`) : openaiError(item.status, `fake provider: injected ${item.status}`));
          return json(item.status, err, item.retryAfter !== undefined ? { 'retry-after': String(item.retryAfter) } : {});
        }
        case 'hang':
          hanging.add(res);
          return;
        case 'garbage':
          res.writeHead(item.status ?? 200, { 'content-type': item.contentType ?? (stream ? 'text/event-stream' : 'application/json'), ...(item.encoding ? { 'content-encoding': item.encoding } : {}) });
          return void res.end(item.encoding === 'gzip' ? gzipSync(item.body) : item.body);
        case 'cut': {
          if (!stream) {
            const whole = JSON.stringify(protocol === 'anthropic' ? anthropicMessage({ text: 'This answer will be cut before it ends.' }, model ? { model } : {}, body) : openaiCompletion({ text: 'This answer will be cut before it ends.' }, model ? { model } : {}, body));
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(whole)) });
            res.write(whole.slice(0, Math.floor(whole.length / 2)));
            await sleep(5);
            cut.add(res);
            res.socket?.destroy();
            return;
          }
          const events = renderStream(protocol, { text: 'This stream will be cut before it ends. '.repeat(4) }, model, body);
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': fakeId('req'), ...(item.encoding ? { 'content-encoding': item.encoding } : {}) });
          const out = eventWriter(res, item.encoding);
          for (const e of events.slice(0, item.afterEvents)) out.write(e);
          await sleep(5);
          cut.add(res); // our own cut, not a client disconnect
          res.socket?.destroy();
          return;
        }
      }
    }

    const reply = item;
    if (!stream) {
      return json(200, protocol === 'anthropic' ? anthropicMessage(reply, { ...(model ? { model } : {}) }, body) : openaiCompletion(reply, { ...(model ? { model } : {}) }, body));
    }
    const events = renderStream(protocol, reply, model, body);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': fakeId('req'), 'x-request-id': fakeId('req'), ...(reply.encoding ? { 'content-encoding': reply.encoding } : {}) });
    const delay = reply.chunkDelayMs ?? 0;
    if (delay <= 0 && !reply.encoding) return void res.end(events.join(''));
    const out = eventWriter(res, reply.encoding);
    for (const e of events) {
      if (res.destroyed) return;
      out.write(e);
      if (delay > 0) await sleep(delay);
    }
    out.end();
  }

  function renderStream(protocol: FakeProtocol, reply: FakeReply, model: string | undefined, body: unknown): string[] {
    const req = model ? { model } : {};
    if (protocol === 'anthropic') return anthropicStreamEvents(reply, req, body);
    const includeUsage = ((body as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage ?? false) === true;
    return openaiStreamEvents(reply, req, body, includeUsage);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const fake: FakeProvider = {
    compressJson: false,
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    requests,
    get disconnects() {
      return disconnects;
    },
    get activeRequests() {
      return active;
    },
    queue: (...items) => void pending.push(...items),
    setResponder: (r) => {
      responder = r;
    },
    reset() {
      requests.length = 0;
      pending.length = 0;
      fake.compressJson = false;
    },
    close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

/** Without a script: a clearly labelled canned answer echoing the last user message. */
export const defaultResponder: FakeResponder = (req) => {
  const b = (req.body ?? {}) as { messages?: { role: string; content: unknown }[] };
  const last = [...(b.messages ?? [])].reverse().find((m) => m.role === 'user');
  const text = typeof last?.content === 'string' ? last.content : Array.isArray(last?.content) ? (last.content as { type: string; text?: string }[]).filter((p) => p.type === 'text').map((p) => p.text ?? '').join(' ') : '';
  return { text: `[CCO demo provider — canned reply, not a real model] You said: ${text.slice(0, 200)}` };
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Writes SSE events to the response as they are, or gzip-compressed with each event flushed (what a compressing proxy sends). */
function eventWriter(res: http.ServerResponse, encoding: 'gzip' | undefined): { write(e: string): void; end(): void } {
  if (!encoding) return { write: (e) => void res.write(e), end: () => void res.end() };
  const gz = createGzip();
  gz.on('data', (c: Buffer) => {
    if (!res.destroyed) res.write(c);
  });
  gz.on('end', () => {
    if (!res.destroyed) res.end();
  });
  return {
    write: (e) => {
      gz.write(e);
      gz.flush(zlibConstants.Z_SYNC_FLUSH);
    },
    end: () => gz.end(),
  };
}
