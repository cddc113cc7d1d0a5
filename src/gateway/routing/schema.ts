import { z } from 'zod';

/** Wire format a provider speaks. Any OpenAI-compatible server (DeepSeek, Ollama, vLLM ...) is `openai`. */
export type ProviderFormat = 'anthropic' | 'openai';

const regex = z.string().min(1).max(500).superRefine((v, ctx) => {
  try {
    new RegExp(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
  }
});

/** One or several env var names; each var may hold several comma-separated keys (rotated). */
const keyEnv = z.union([z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).max(32)]);

const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

export const providerSchema = z
  .object({
    format: z.enum(['anthropic', 'openai']),
    base_url: httpUrl,
    api_key_env: keyEnv.optional(),
    /** Requests in flight to this provider at once; the rest wait in its queue. */
    max_concurrency: z.number().int().min(1).max(10_000).default(256),
    /** Requests allowed to wait; beyond this a request is refused with 529/503 at once. */
    max_queue: z.number().int().min(0).max(1_000_000).default(10_000),
  })
  .strict();

export const routeSchema = z
  .object({
    name: z.string().max(100).optional(),
    /** Regular expression searched in the requested model name. */
    pattern: regex,
    /** Provider name (built in: anthropic, openai); inferred from the model name when absent. */
    provider: z.string().max(100).optional(),
    base_url: httpUrl.optional(),
    api_key_env: keyEnv.optional(),
    /** Model name sent upstream instead of the requested one. */
    model: z.string().max(200).optional(),
    /** Time to the upstream's first byte and between streamed chunks. */
    timeout_ms: z.number().int().min(1).max(3_600_000).optional(),
    retries: z.number().int().min(0).max(10).optional(),
    /** Models tried in order when this route finally fails (each routed by its own route). */
    fallbacks: z.array(z.string().min(1).max(200)).max(10).default([]),
    cache: z.boolean().default(true),
  })
  .strict();

export const routingSchema = z
  .object({
    $schema: z.string().optional(),
    description: z.string().optional(),
    version: z.number().int().optional(),
    providers: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'provider names are lower-case letters, digits, - and _'), providerSchema).default({}),
    routes: z.array(routeSchema).max(1000).default([]),
    defaults: z
      .object({
        timeout_ms: z.number().int().min(1).max(3_600_000).default(300_000),
        retries: z.number().int().min(0).max(10).default(2),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        base_delay_ms: z.number().int().min(0).max(60_000).default(250),
        max_delay_ms: z.number().int().min(0).max(300_000).default(8_000),
        /** A `retry-after` longer than this is not waited for: the error goes to the client. */
        max_retry_after_ms: z.number().int().min(0).max(600_000).default(60_000),
      })
      .strict()
      .prefault({}),
    // The file's own values, as written: CIRCUIT_BREAKER_* variables are applied where the breakers
    // are built (ProviderPool), never here, since the improvement cycle writes this config back.
    breaker: z
      .object({
        failure_threshold: z.number().int().min(1).max(1000).default(5),
        open_ms: z.number().int().min(10).max(3_600_000).default(30_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RoutingFile = z.infer<typeof routingSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;

/** Providers known without configuration; a routing file may override or add to them. */
export const BUILTIN_PROVIDERS: Record<string, z.input<typeof providerSchema>> = {
  anthropic: { format: 'anthropic', base_url: 'https://api.anthropic.com', api_key_env: 'ANTHROPIC_API_KEY' },
  openai: { format: 'openai', base_url: 'https://api.openai.com/v1', api_key_env: 'OPENAI_API_KEY' },
};
