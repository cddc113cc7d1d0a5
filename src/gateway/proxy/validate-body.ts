import { z } from 'zod';
import { GatewayError } from './errors.js';
import type { Endpoint } from './inbound.js';

/**
 * Light shape checks at the edge: the fields the gateway itself relies on, with the right
 * types. Everything else (unknown fields included) passes through for the provider to judge.
 */
const common = {
  model: z.string().min(1).max(256),
  messages: z.array(z.unknown()).max(1_000_000),
  stream: z.boolean().optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  tools: z.array(z.unknown()).optional(),
};

const SCHEMAS: Record<Endpoint, z.ZodType> = {
  messages: z.object({ ...common, max_tokens: z.number().int().min(1), system: z.union([z.string(), z.array(z.unknown())]).optional(), stop_sequences: z.array(z.string()).optional() }).passthrough(),
  count_tokens: z.object({ model: common.model, messages: common.messages, system: z.union([z.string(), z.array(z.unknown())]).optional(), tools: common.tools }).passthrough(),
  chat_completions: z.object({ ...common, max_tokens: z.number().int().min(1).nullable().optional(), max_completion_tokens: z.number().int().min(1).nullable().optional() }).passthrough(),
};

/** Throws a 400 GatewayError naming the first bad field. */
export function validateBody(endpoint: Endpoint, body: Record<string, unknown>): void {
  const r = SCHEMAS[endpoint].safeParse(body);
  if (r.success) return;
  const issue = r.error.issues[0];
  const field = issue?.path.length ? issue.path.map(String).join('.') : 'body';
  throw new GatewayError(400, 'invalid_request', `${field}: ${issue?.message ?? 'invalid'}`, { field });
}
