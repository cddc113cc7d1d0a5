import { AppError } from '../core/errors.js';
import type { Principal, SidecarOps } from './deps.js';

export interface SidecarLink {
  url(): string | undefined;
  mint(claims: { agentId: string; agentType: string; issues: string[] | '*'; ttlSeconds?: number }): Promise<string>;
}

const TOKEN_TTL_S = 3600;

/**
 * The sidecar's operations through its own HTTP API, as an agent of the caller's scope: a JWT is
 * minted per key, scope and agent type (issues = the key's issues) and reused until near expiry. Going
 * through the sidecar's routes keeps one place for its validation, scope checks and events.
 */
export function sidecarOverHttp(link: SidecarLink): SidecarOps {
  const tokens = new Map<string, { token: string; until: number }>();

  async function token(p: Principal, agentType: string): Promise<string> {
    // per key and scope, not per tenant: a tenant's keys may differ in the issues they reach, and
    // a token minted for one was reused for the other (a scoped key read and wrote any issue)
    const scope = p.issues === '*' ? '*' : [...p.issues].sort().join('\u0001');
    const key = `${p.tenant}\u0000${p.keyId}\u0000${scope}\u0000${agentType}`;
    const t = tokens.get(key);
    if (t && t.until > Date.now()) return t.token;
    const fresh = await link.mint({ agentId: `mcp-${p.tenant}`, agentType, issues: p.issues, ttlSeconds: TOKEN_TTL_S });
    tokens.set(key, { token: fresh, until: Date.now() + (TOKEN_TTL_S - 300) * 1000 });
    if (tokens.size > 1000) tokens.delete(tokens.keys().next().value as string);
    return fresh;
  }

  async function call(p: Principal, agentType: string, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const base = link.url();
    if (!base) throw new AppError(503, 'sidecar_unavailable', 'The sidecar is not running (see get_system_status)');
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${await token(p, agentType)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { raw: text };
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string; field?: string } }).error;
      throw new AppError(res.status, e?.code ?? 'sidecar_error', `sidecar: ${e?.message ?? `HTTP ${res.status}`}`, e?.field ? { field: e.field } : {});
    }
    return json as Record<string, unknown>;
  }

  const seg = encodeURIComponent;
  return {
    getContext: (p, a, signal) =>
      call(p, a.agent_type, 'GET', `/api/context/${seg(a.issue_id)}/${seg(a.agent_type)}?${new URLSearchParams({ ...(a.query ? { q: a.query } : {}), ...(a.root ? { root: a.root } : {}) }).toString()}`, undefined, signal),
    storeResult: (p, a, signal) =>
      call(p, a.agent_type, 'POST', '/api/results', { agent_id: a.agent_id ?? `mcp-${p.tenant}`, agent_type: a.agent_type, issue_id: a.issue_id, result: a.result }, signal),
    publishEvent: (p, a, signal) =>
      call(p, 'mcp-client', 'POST', `/api/events/${seg(a.event_type)}`, { publisher: a.publisher ?? `mcp-${p.tenant}`, ...(a.topic ? { topic: a.topic } : {}), ...(a.issue_id ? { issue_id: a.issue_id } : {}), data: a.data ?? null }, signal),
    waitForEvent(p, a, signal) {
      const filter = [a.topic ? `topic:${a.topic}` : '', a.publisher ? `publisher:${a.publisher}` : '', a.issue_id ? `issue:${a.issue_id}` : ''].filter(Boolean).join(',');
      const q = new URLSearchParams({ timeout: String(a.timeout_ms), after: String(a.after ?? 0), ...(filter ? { filter } : {}) });
      return call(p, 'mcp-client', 'GET', `/api/events/wait/${seg(a.event_type)}?${q.toString()}`, undefined, signal);
    },
    async status() {
      const base = link.url();
      if (!base) throw new AppError(503, 'sidecar_unavailable', 'The sidecar is not running');
      const res = await fetch(`${base}/status`);
      return (await res.json()) as Record<string, unknown>;
    },
  };
}
