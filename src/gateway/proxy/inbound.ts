import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { ClientFormat } from './errors.js';

export type Endpoint = 'messages' | 'count_tokens' | 'chat_completions';

/** A gateway request as the transport hands it to the core (framework-neutral). */
export interface Inbound {
  id: string;
  clientFormat: ClientFormat;
  endpoint: Endpoint;
  /** Query string including '?', or '' (Claude Code sends `?beta=true`). */
  query: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received (forwarded untouched when nothing needs changing). */
  raw: Buffer;
  body: Record<string, unknown>;
  /** Epoch ms when the request arrived. */
  receivedAt: number;
}

/** Where the core writes its answer (Node's ServerResponse, or anything shaped like it). */
export type ClientResponse = ServerResponse;

/** Endpoint path on an upstream of a format (after the provider's base path). */
export function upstreamPath(endpoint: Endpoint, format: ClientFormat): string {
  if (format === 'openai') return '/chat/completions';
  return endpoint === 'count_tokens' ? '/v1/messages/count_tokens' : '/v1/messages';
}

const header = (h: IncomingHttpHeaders, name: string): string | null => {
  const v = h[name];
  return typeof v === 'string' && v ? v.slice(0, 200) : null;
};

/** Attribution headers Claude Code sends (session, subagent, parent agent) and our project hint. */
export function attribution(h: IncomingHttpHeaders): { sessionId: string | null; agentId: string | null; parentAgentId: string | null; project: string | null; client: string | null } {
  const ua = header(h, 'user-agent');
  return {
    sessionId: header(h, 'x-claude-code-session-id') ?? header(h, 'x-cco-session-id'),
    agentId: header(h, 'x-claude-code-agent-id') ?? header(h, 'x-cco-agent-id'),
    parentAgentId: header(h, 'x-claude-code-parent-agent-id'),
    project: header(h, 'x-cco-project'),
    client: ua ? (ua.split(' ')[0] ?? ua).slice(0, 80) : null,
  };
}
