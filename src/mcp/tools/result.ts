import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AppError, isAppError } from '../../core/errors.js';
import { redactString } from '../../core/redact.js';
import type { Principal } from '../deps.js';

/** A tool's success: the object as structured content and as JSON text (for clients without it). */
export function ok(out: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(out) }], structuredContent: out };
}

/** A tool's failure as MCP says: a result with `isError`, the message naming the code. */
export function fail(e: unknown): CallToolResult {
  const text = isAppError(e) ? `${e.code} (${e.status}): ${e.message}` : `error: ${redactString(e instanceof Error ? e.message : String(e))}`;
  return { content: [{ type: 'text', text }], isError: true };
}

/** Runs a tool body, turning thrown errors into tool errors. */
export async function run(fn: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    return ok(await fn());
  } catch (e) {
    return fail(e);
  }
}

/** The service, or a 503 naming what is missing. */
export function need<T>(svc: T | string, what: string): T {
  if (typeof svc === 'string') throw new AppError(503, 'unavailable', `${what} is unavailable: ${svc}`);
  return svc;
}

/** Admin tools: the seed's 403 for a key of a tenant without the right. */
export function requireAdmin(p: Principal, tool: string): void {
  if (!p.admin) throw new AppError(403, 'tenant_access_denied', `Tenant access denied: tenant ${p.tenant} may not call ${tool} (set admin = true on its key)`);
}
