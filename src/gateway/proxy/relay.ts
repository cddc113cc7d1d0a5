import type { ServerResponse } from 'node:http';
import type { UpstreamResponse } from '../upstream/client.js';
import type { UpstreamBody } from '../upstream/body.js';
import { decodedBody } from '../upstream/decode.js';
import { withoutUsageChunk } from './stream-usage.js';
import { relayHeaders } from '../upstream/headers.js';
import type { FormatBridge } from '../translate/types.js';
import { redactJsonText } from '../../core/redact.js';
import { errorBody, streamErrorEvent } from './errors.js';
import type { ClientFormat } from './errors.js';
import { SseObserver, emptyUsage, usageFromBody } from './usage.js';
import type { Usage } from './usage.js';
import type { AbortLike } from '../../core/abort.js';

export interface RelayResult {
  status: number;
  usage: Usage;
  /** The stream ended properly (or the answer was complete JSON). */
  complete: boolean;
  stream: boolean;
  ttftAt: number | undefined;
  /** What the client received, for the cache (undefined when too big or not cacheable). */
  captured: Buffer | undefined;
  headers: Record<string, string>;
  /** Why a stream ended early. */
  streamError: string | undefined;
}

export interface RelayOptions {
  upstreamFormat: ClientFormat;
  clientFormat: ClientFormat;
  clientModel: string;
  requestBody: Record<string, unknown>;
  bridge: FormatBridge | undefined;
  /** Pass-through: the gateway asked for the usage chunk the client did not (see stream-usage.ts); it is taken out. */
  dropUsageChunk?: boolean;
  /** Capture at most this many bytes for the cache (0: do not capture). */
  captureLimit: number;
  /** The route's configured keys: an error answer that echoes one ("Incorrect API key provided: sk-…") has it masked. */
  secrets?: readonly string[];
  extraHeaders: Record<string, string>;
  signal: AbortLike;
  onBytes(n: number): void;
  /**
   * A stream ended by its client (or an operator) part-way: the usage the provider had reported
   * until then (Anthropic's input and cache tokens come in its first event) and when the first
   * token came. The provider bills what it processed, so the record must count it.
   */
  onAborted?(usage: Usage, ttftAt: number | undefined): void;
}

const isEventStream = (h: UpstreamResponse['headers']): boolean => String(h['content-type'] ?? '').includes('text/event-stream');

/**
 * Relays an upstream answer to the client. Pass-through (same format) writes the upstream
 * bytes untouched, chunk by chunk as they arrive; a translating route rewrites them. A stream
 * that ends without its terminal event is finished with an error event in the client's
 * protocol, so no client mistakes a cut stream for a complete answer.
 */
export async function relay(up: UpstreamResponse, res: ServerResponse, o: RelayOptions): Promise<RelayResult> {
  const headers = relayHeaders(up.headers);
  const body = decodedBody(up);
  // an error is an answer, not a stream (and its text may quote a key: masked in relayWhole)
  if (!isEventStream(up.headers) || up.status >= 400) return relayWhole(up, body, res, o, headers);
  return relayStream(up, body, res, o, headers);
}

async function relayWhole(up: UpstreamResponse, body: UpstreamBody, res: ServerResponse, o: RelayOptions, headers: Record<string, string | string[]>): Promise<RelayResult> {
  const buf = await body.bytes();
  let out = buf;
  let usage = emptyUsage();
  let parsed: unknown;
  const isJson = String(up.headers['content-type'] ?? '').includes('json');
  if (isJson) {
    try {
      parsed = JSON.parse(buf.toString('utf8'));
    } catch {
      parsed = undefined;
    }
  }
  if (up.status < 400 && parsed !== undefined) usage = usageFromBody(o.upstreamFormat, parsed);
  if (o.bridge) {
    // A success the translation cannot read (an HTML page, JSON of another shape) throws here,
    // before anything is written: the client gets a 502, not a 200 carrying an error.
    if (up.status < 400 && parsed === undefined) throw new Error(`a ${up.status} answer that is not JSON (${String(up.headers['content-type'] ?? 'no content-type')})`);
    const translated = up.status < 400 ? o.bridge.response(parsed, o.clientModel, o.requestBody) : o.bridge.error(up.status, buf.toString('utf8'));
    out = Buffer.from(JSON.stringify(translated));
    headers['content-type'] = 'application/json';
  } else if (up.status >= 400 && parsed === undefined) {
    // An error page that is not the provider's JSON (an HTML 502 from a proxy or load balancer in
    // front of it): the client still gets an error in its own API's shape, with the status.
    const text = buf.toString('utf8').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
    out = Buffer.from(JSON.stringify(errorBody(o.clientFormat, up.status, `upstream answered ${up.status}${text ? `: ${text}` : ''}`, 'upstream_error')));
    headers['content-type'] = 'application/json';
  }
  // a provider's error that quotes the key it was sent would hand the team's key to any client
  if (up.status >= 400) out = withoutSecrets(out, o.secrets);
  const complete = up.status < 400 && parsed !== undefined;
  // an error sent with a 200 ({"type":"error"} / {"error": ...}) is relayed as it came, never cached
  const captured = complete && isAnswer(o.upstreamFormat, parsed) && out.length <= o.captureLimit ? out : undefined;
  // The headers a cached copy replays: the upstream's, without ours (taken before they are added).
  const kept = captured ? flat(headers) : {};
  for (const k in o.extraHeaders) headers[k] = o.extraHeaders[k] as string;
  headers['content-length'] = String(out.length);
  res.writeHead(up.status, headers);
  res.end(out);
  o.onBytes(out.length);
  return { status: up.status, usage, complete, stream: false, ttftAt: undefined, captured, headers: kept, streamError: complete ? undefined : 'response is not valid JSON' };
}

async function relayStream(up: UpstreamResponse, body: UpstreamBody, res: ServerResponse, o: RelayOptions, headers: Record<string, string | string[]>): Promise<RelayResult> {
  const observer = new SseObserver(o.upstreamFormat);
  const translator = o.bridge?.stream(o.clientModel, o.requestBody);
  const kept = o.captureLimit > 0 ? flat(headers) : {};
  for (const k in o.extraHeaders) headers[k] = o.extraHeaders[k] as string;
  res.writeHead(up.status, headers);
  // The status line and headers leave with the first chunk when it is already here, else on the
  // next turn of the event loop: the client's time to first byte stays upstream's, without a
  // write of its own for the headers when the upstream sent headers and events together.
  let started = false;
  const flush = setImmediate(() => {
    if (!started && !res.destroyed) res.flushHeaders();
  });
  const parts: Buffer[] = [];
  let captured = 0;
  let capturing = o.captureLimit > 0;
  let streamError: string | undefined;
  // Pass-through: the bytes after the last complete event wait for the rest of their event. A
  // stream cut mid-event would otherwise run its half event into the error event that ends it
  // (`data: {"type":"content_blockevent: error`), which the SDKs fail to parse. An SSE client
  // cannot use half an event anyway, so nothing reaches it later than it could be used.
  let held: Buffer | undefined;
  try {
    for await (const c of body) {
      const chunk = c as Buffer;
      observer.push(chunk);
      let out: Buffer;
      if (translator) out = Buffer.from(translator.push(chunk));
      else {
        const data = held ? Buffer.concat([held, chunk]) : chunk;
        const cut = endOfLastEvent(data);
        // (a single event past 1 MB goes on unsplit: the hold is for event boundaries, not a buffer)
        if (cut < 0 && data.length <= MAX_HELD) {
          held = data;
          continue;
        }
        out = cut < 0 || cut === data.length ? data : data.subarray(0, cut);
        held = cut < 0 || cut === data.length ? undefined : Buffer.from(data.subarray(cut));
        if (o.dropUsageChunk) out = withoutUsageChunk(out);
      }
      if (out.length === 0) continue;
      if (capturing) {
        captured += out.length;
        if (captured > o.captureLimit) {
          capturing = false;
          parts.length = 0;
        } else parts.push(out);
      }
      o.onBytes(out.length);
      started = true;
      // (Writes of one tick already leave together: the response corks its socket until the next tick.)
      if (!res.write(out)) await drained(res, o.signal);
    }
  } catch (e) {
    if (o.signal.aborted) {
      o.onAborted?.(observer.usage, observer.firstTokenAt);
      throw o.signal.reason;
    }
    streamError = `upstream stream failed: ${(e as { code?: string }).code ?? (e as Error).message}`;
  } finally {
    clearImmediate(flush);
  }
  // A stream that carried an error event is not a complete answer, even when a terminal event
  // followed it (vLLM and others send `[DONE]` after an error): never cached, recorded as failed.
  const complete = (translator ? translator.complete : observer.complete) && !observer.upstreamError;
  // a complete stream whose last event has no blank line after it: those bytes are the client's too
  if (held && complete && !res.destroyed) {
    if (capturing && captured + held.length <= o.captureLimit) parts.push(held);
    else capturing = false;
    o.onBytes(held.length);
    res.write(held);
  }
  if (!complete) {
    streamError ??= observer.upstreamError ? `upstream sent an error event: ${observer.upstreamError.message}` : 'upstream closed the stream before its end (no message_stop / [DONE])';
    // An upstream error event already reached the client: as is on a pass-through route, in the
    // client's protocol on a translating one (the translator stops after it).
    if (!observer.upstreamError) res.write(streamErrorEvent(o.clientFormat, 502, `Stream interrupted: ${streamError}`, 'stream_incomplete'));
  }
  res.end();
  return { status: up.status, usage: observer.usage, complete, stream: true, ttftAt: observer.firstTokenAt, captured: complete && capturing ? Buffer.concat(parts) : undefined, headers: kept, streamError };
}

/** Bytes of one SSE event the relay holds back at most while waiting for its end. */
const MAX_HELD = 1024 * 1024;

/** A provider's answer in its format's success shape, not an error body. */
function isAnswer(format: ClientFormat, parsed: unknown): boolean {
  if (!parsed || typeof parsed !== 'object') return false;
  const o = parsed as Record<string, unknown>;
  if (o.error !== undefined && o.error !== null) return false;
  return format === 'anthropic' ? o.type === 'message' : Array.isArray(o.choices);
}

/** Where the last complete SSE event of `b` ends (after its blank line), or -1 when none does. */
export function endOfLastEvent(b: Buffer): number {
  const lf = b.lastIndexOf('\n\n');
  const crlf = b.lastIndexOf('\r\n\r\n');
  const cr = b.lastIndexOf('\r\r');
  return Math.max(lf < 0 ? -1 : lf + 2, crlf < 0 ? -1 : crlf + 4, cr < 0 ? -1 : cr + 2);
}

/** Resolves when the client's socket takes more; rejects when the request is aborted or the client has gone. */
function drained(res: ServerResponse, signal: AbortLike): Promise<void> {
  if (res.destroyed) return Promise.reject(signal.reason ?? new Error('client closed'));
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const onDrain = () => {
      done();
      resolve();
    };
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    const onClose = () => {
      done();
      reject(signal.reason ?? new Error('client closed'));
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function flat(h: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) {
    const v = h[k] as string | string[];
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** An error answer with the given keys and anything shaped like a credential masked. */
export function withoutSecrets(buf: Buffer, secrets: readonly string[] | undefined): Buffer {
  const text = buf.toString('utf8');
  let masked = text;
  // short values could be ordinary words of the message
  for (const k of secrets ?? []) if (k.length >= 8) masked = masked.split(k).join('[REDACTED]');
  masked = redactJsonText(masked);
  return masked === text ? buf : Buffer.from(masked);
}
