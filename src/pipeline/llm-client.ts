import { redactString } from '../core/redact.js';
import { parseRetryAfter } from '../gateway/resilience/retry.js';

/**
 * The pipeline's way to an LLM: an Anthropic Messages request to the daemon's own gateway
 * (`<selfUrl>/v1/messages`), so routing, cache, retries, cost and analytics apply exactly as
 * they do for Claude Code. Nothing here talks to a provider directly.
 */
export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface LlmRequest {
  model: string;
  system: string;
  messages: LlmMessage[];
  maxTokens: number;
  temperature: number;
  /** For analytics: which agent and which task (session) made the call. */
  agent: string;
  taskId: string;
  signal?: AbortSignal;
  /** Sends `x-cco-cache: bypass`: the gateway asks the provider instead of replaying a cached answer. */
  bypassCache?: boolean;
}

export interface LlmReply {
  text: string;
  /** Input of the first tool_use block, when the model answered with a tool call. */
  toolInput: Record<string, unknown> | undefined;
  model: string;
  stopReason: string | undefined;
  usage: { input_tokens: number; output_tokens: number };
}

/**
 * A call that produced no usable message (HTTP error, transport error, a body that is not a
 * message). `retryAfterMs` is set when the gateway said "not now, try again in …": its circuit
 * breaker for the provider is open (503), its queue is full (529), or a rate limit (429) — each
 * with a `retry-after`. Such a call is worth waiting for rather than counting as a failure.
 */
export class LlmCallError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'LlmCallError';
  }
}

/** What a refused key needs (the provider's key is the daemon's, from its environment). */
const KEY_FIX = ". Check the provider's API key: set ANTHROPIC_API_KEY (or the variable the route's api_key_env names in model-routing.json, e.g. OPENAI_API_KEY) in the daemon's environment and run `cco daemon restart`";

/** Statuses whose `retry-after` announces when the gateway (or the provider) will take calls again. */
const BUSY_STATUSES: ReadonlySet<number> = new Set([429, 503, 529]);

export interface LlmClient {
  complete(req: LlmRequest): Promise<LlmReply>;
}

export interface GatewayClientOptions {
  /** Base URL of the gateway, without `/v1` (the daemon's `selfUrl()`). */
  baseUrl: () => string;
  /** Provider key to present when the gateway passes client credentials through. */
  apiKey?: string | undefined;
  /** The daemon's access token: beyond loopback (team mode) the gateway asks its callers for it. */
  accessToken?: string | undefined;
  timeoutMs: number;
}

/** An LlmClient over the daemon's gateway. */
export function gatewayClient(opts: GatewayClientOptions): LlmClient {
  return {
    async complete(req) {
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        // The gateway's analytics attribute the call to this agent and task (session).
        'x-cco-agent-id': req.agent,
        'x-cco-session-id': req.taskId,
        'x-cco-project': 'pipeline',
        'user-agent': 'cco-pipeline',
      };
      if (req.bypassCache) headers['x-cco-cache'] = 'bypass';
      if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
      if (opts.accessToken) headers['x-cco-token'] = opts.accessToken;
      const body = JSON.stringify({
        model: req.model,
        max_tokens: req.maxTokens,
        temperature: req.temperature,
        system: req.system,
        messages: req.messages,
        metadata: { user_id: `cco-pipeline-${req.taskId}` },
      });
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${opts.baseUrl()}/v1/messages`, { method: 'POST', headers, body, signal });
        text = await res.text();
      } catch (e) {
        if (req.signal?.aborted) throw new LlmCallError('cancelled', undefined);
        if (timeout.aborted) throw new LlmCallError(`the gateway did not answer within ${opts.timeoutMs} ms; raise [pipeline] request_timeout_ms in daemon.toml`, undefined);
        throw new LlmCallError(`the gateway could not be reached: ${(e as Error).message}`, undefined);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new LlmCallError(`the gateway answered ${res.status} with a body that is not JSON: ${snippet(text)}`, res.status);
      }
      if (!res.ok) {
        const err = (json as { error?: { type?: string; message?: string } }).error;
        const retryAfterMs = BUSY_STATUSES.has(res.status) ? parseRetryAfter(Object.fromEntries(res.headers)) : undefined;
        const fix = res.status === 401 || res.status === 403 ? KEY_FIX : '';
        throw new LlmCallError(`the gateway answered ${res.status}${err?.type ? ` ${err.type}` : ''}: ${err?.message ? snippet(err.message) : snippet(text)}${fix}`, res.status, retryAfterMs);
      }
      return toReply(json, res.status, text);
    },
  };
}

function toReply(json: unknown, status: number, raw: string): LlmReply {
  const m = json as { type?: string; content?: unknown; model?: string; stop_reason?: string; usage?: { input_tokens?: number; output_tokens?: number } };
  if (m.type !== 'message' || !Array.isArray(m.content)) {
    throw new LlmCallError(`the gateway answered ${status} with something that is not a message: ${snippet(raw)}`, status);
  }
  const blocks = m.content as { type?: string; text?: string; input?: unknown }[];
  const text = blocks
    .filter((b) => b.type === 'text')
    .map((b) => b.text ?? '')
    .join('');
  const tool = blocks.find((b) => b.type === 'tool_use');
  return {
    text,
    toolInput: tool && typeof tool.input === 'object' && tool.input !== null ? (tool.input as Record<string, unknown>) : undefined,
    model: m.model ?? '',
    stopReason: m.stop_reason,
    usage: { input_tokens: Number(m.usage?.input_tokens ?? 0), output_tokens: Number(m.usage?.output_tokens ?? 0) },
  };
}

function snippet(s: string): string {
  const t = redactString(s).replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t || '(empty)';
}
