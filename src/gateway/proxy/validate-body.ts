import { z } from 'zod';
import { isJsonObject } from '../../core/json.js';
import { GatewayError } from './errors.js';
import type { Endpoint } from './inbound.js';

/**
 * Light shape checks at the edge: the fields the gateway itself relies on, with the right
 * types. Everything else (unknown fields included) passes through for the provider to judge.
 */
/** An item that must be a JSON object (a message, a tool, a system block). */
const item = z.object({}).passthrough();
const common = {
  model: z.string().min(1).max(256),
  messages: z.array(item).max(1_000_000),
  stream: z.boolean().optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  tools: z.array(item).optional(),
};

// A change here must be made in plainlyValid below too (its test checks it never accepts what these reject).
export const SCHEMAS: Record<Endpoint, z.ZodType> = {
  messages: z.object({ ...common, max_tokens: z.number().int().min(1), system: z.union([z.string(), z.array(item)]).optional(), stop_sequences: z.array(z.string()).optional() }).passthrough(),
  count_tokens: z.object({ model: common.model, messages: common.messages, system: z.union([z.string(), z.array(item)]).optional(), tools: common.tools }).passthrough(),
  chat_completions: z.object({ ...common, max_tokens: z.number().int().min(1).nullable().optional(), max_completion_tokens: z.number().int().min(1).nullable().optional() }).passthrough(),
};

const num = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isFinite(v));
const objects = (v: unknown[]): boolean => {
  for (const x of v) if (!isJsonObject(x)) return false;
  return true;
};
const arr = (v: unknown): boolean => v === undefined || (Array.isArray(v) && objects(v));
const system = (v: unknown): boolean => v === undefined || typeof v === 'string' || (Array.isArray(v) && objects(v));
const tokens = (v: unknown, nullable: boolean): boolean => v === undefined || (nullable && v === null) || (Number.isSafeInteger(v) && (v as number) >= 1);

/**
 * The same rules as SCHEMAS for a body that satisfies them, without building zod's parse
 * context on every request; a body it does not accept goes through zod, which names the field.
 */
export function plainlyValid(endpoint: Endpoint, b: Record<string, unknown>): boolean {
  const m = b.model;
  if (typeof m !== 'string' || m.length < 1 || m.length > 256 || !Array.isArray(b.messages) || b.messages.length > 1_000_000 || !objects(b.messages)) return false;
  if (endpoint === 'count_tokens') return system(b.system) && arr(b.tools);
  if (!(b.stream === undefined || typeof b.stream === 'boolean') || !num(b.temperature) || !num(b.top_p) || !arr(b.tools)) return false;
  if (endpoint === 'messages') {
    const stop = b.stop_sequences;
    return tokens(b.max_tokens, false) && b.max_tokens !== undefined && system(b.system) && (stop === undefined || (Array.isArray(stop) && stop.every((x) => typeof x === 'string')));
  }
  return tokens(b.max_tokens, true) && tokens(b.max_completion_tokens, true);
}

/** Throws a 400 GatewayError naming the first bad field. */
export function validateBody(endpoint: Endpoint, body: Record<string, unknown>): void {
  if (plainlyValid(endpoint, body)) return;
  const r = SCHEMAS[endpoint].safeParse(body);
  if (r.success) return;
  const issue = r.error.issues[0];
  const field = issue?.path.length ? issue.path.map(String).join('.') : 'body';
  throw new GatewayError(400, 'invalid_request', `${field}: ${issue?.message ?? 'invalid'}`, { field });
}
