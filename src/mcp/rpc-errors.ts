import { isAppError } from '../core/errors.js';

/** JSON-RPC error codes the HTTP front of `/mcp` answers with. */
export const RPC = { parseError: -32700, invalidRequest: -32600, invalidParams: -32602, internalError: -32603, sessionNotFound: -32001 } as const;

export type RpcId = string | number | null;

export const rpcError = (code: number, message: string, id: RpcId = null) => ({ jsonrpc: '2.0' as const, error: { code, message }, id });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The ids of the JSON-RPC requests in a POST body (one message or a batch). */
export function requestIds(body: unknown): (string | number)[] {
  const msgs = Array.isArray(body) ? body : [body];
  return msgs.flatMap((m) => (isObject(m) && typeof m.method === 'string' && (typeof m.id === 'string' || typeof m.id === 'number') ? [m.id] : []));
}

/**
 * A `tools/call` whose params the SDK would reject with a raw zod dump as an internal error
 * (-32603): the one-sentence -32602 to answer instead, or undefined when the message is fine (or
 * is not a `tools/call`).
 */
export function invalidToolCall(body: unknown): ReturnType<typeof rpcError> | undefined {
  if (!isObject(body) || body.method !== 'tools/call') return undefined;
  const id = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : null;
  const p = body.params;
  const bad = (message: string) => rpcError(RPC.invalidParams, message, id);
  if (!isObject(p)) return bad(`tools/call needs params {"name": "<tool>", "arguments": {...}}; params is ${describe(p)}.`);
  if (typeof p.name !== 'string' || !p.name) return bad(`tools/call needs params.name, the tool's name (see tools/list); it is ${describe(p.name)}.`);
  if (p.arguments !== undefined && !isObject(p.arguments)) return bad(`tools/call params.arguments must be an object of the tool's arguments, or left out; it is ${describe(p.arguments)}.`);
  return undefined;
}

const describe = (v: unknown): string => (v === undefined ? 'missing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/** Human size of a byte count, for the body limit message. */
const mb = (bytes: number): string => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

/**
 * A request body the daemon could not read (malformed, empty, nested too deep, too large, not
 * JSON), as the JSON-RPC error an MCP client understands, with its HTTP status. Anything else
 * that failed before the SDK took the request is an internal error.
 */
/** The codes of installJsonBodies' refusals of a body (server/json-body.ts). */
const BODY_CODES: ReadonlySet<string> = new Set(['invalid_json', 'invalid_request', 'forbidden_key', 'unsupported_encoding']);

export function bodyError(err: unknown, limitBytes: number): { status: number; body: ReturnType<typeof rpcError> } {
  const fe = err as { code?: string; statusCode?: number; message?: string };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: rpcError(RPC.parseError, `Parse error: the request body is larger than the ${mb(limitBytes)} limit of /mcp; send less data in one message.`) };
  }
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { status: 400, body: rpcError(RPC.parseError, 'Parse error: the request body is empty; send one JSON-RPC message as JSON.') };
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
    return { status: 400, body: rpcError(RPC.parseError, `Parse error: the request body is not valid JSON (${fe.message ?? 'malformed'}); send one JSON-RPC message as JSON.`) };
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, body: rpcError(RPC.parseError, 'Parse error: the request body must be JSON; send it with Content-Type: application/json.') };
  // installJsonBodies' own refusals (nesting depth, forbidden keys, compressed bodies) explain themselves
  if (isAppError(err) && err.code === 'invalid_json') {
    return { status: 400, body: rpcError(RPC.parseError, `Parse error: the request body is not valid JSON (${err.message.replace(/^Malformed JSON body: /, '')}); send one JSON-RPC message as JSON.`) };
  }
  if (isAppError(err) && err.status < 500 && BODY_CODES.has(err.code)) return { status: err.status, body: rpcError(RPC.parseError, `Parse error: ${err.message}`) };
  // the front door's refusals (a foreign Host or Origin, a rate limit): not the body's fault
  if (isAppError(err) && err.status < 500) return { status: err.status, body: rpcError(RPC.invalidRequest, err.message) };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return { status: fe.statusCode, body: rpcError(RPC.invalidRequest, fe.message ?? 'Invalid request') };
  return { status: 500, body: rpcError(RPC.internalError, 'Internal error; see the daemon log (cco daemon logs).') };
}
