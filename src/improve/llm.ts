import { z } from 'zod';
import type { ImproveConfig } from '../config/sections/improve.js';
import { fieldSchemas } from './changes.js';
import { findRoute } from './propose.js';
import type { ConfigChange, Opportunity, RoutingConfig } from './types.js';

/** Asks a model for a proposal; returns its raw text answer. */
export interface ProposalLlm {
  ask(model: string, system: string, user: string, signal?: AbortSignal): Promise<string>;
}

const SYSTEM = `You tune an LLM gateway's routing config. Answer with JSON only, no prose:
{"changes":[{"route":"<route name or pattern>","field":"timeout_ms|retries|cache|fallbacks","to":<new value>,"reason":"<why>"}]}
Change only routes named in the opportunities, at most one change per route and field. "fallbacks" are model names tried in order.`;

/**
 * An LLM client over the gateway's own Anthropic Messages endpoint, so the proposal is routed,
 * cached, retried and recorded in analytics like any other request.
 */
export function gatewayLlm(baseUrl: () => string, headers: () => Record<string, string>): ProposalLlm {
  return {
    async ask(model, system, user, signal) {
      const res = await fetch(`${baseUrl()}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers() },
        body: JSON.stringify({ model, max_tokens: 1024, system, messages: [{ role: 'user', content: user }] }),
        ...(signal ? { signal } : {}),
      });
      const body = (await res.json().catch(() => undefined)) as { content?: { type: string; text?: string }[]; error?: { message?: string } } | undefined;
      if (!res.ok) throw new Error(`LLM request failed: HTTP ${res.status} ${body?.error?.message ?? ''}`.trim());
      return (body?.content ?? []).filter((b) => b.type === 'text').map((b) => b.text ?? '').join('');
    },
  };
}

/**
 * Asks, giving up after `seconds` (`GENERATION_TIMEOUT_SECONDS`): the request is aborted and the
 * error reads as the seed's "Generation failed: Timeout after 60 seconds". Raced as well as
 * aborted, so a client that ignores its signal cannot hold the cycle either.
 */
async function askWithin(llm: ProposalLlm, model: string, user: string, seconds: number, signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(seconds * 1000);
  const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const stopped = new Promise<never>((_, reject) => {
    const fail = (): void => reject(new Error(timeout.aborted ? `Generation failed: Timeout after ${seconds} seconds` : 'Generation cancelled'));
    if (stop.aborted) fail();
    else stop.addEventListener('abort', fail, { once: true });
  });
  return Promise.race([llm.ask(model, SYSTEM, user, stop), stopped]);
}

/**
 * Asks the model and holds its answer to the same schema and bounds as the rules' changes.
 * Throws with the reason when the answer is not usable or does not come within
 * `generation_timeout_seconds` (the caller falls back to the rules).
 */
export async function llmProposal(llm: ProposalLlm, settings: ImproveConfig, config: RoutingConfig, opportunities: readonly Opportunity[], signal?: AbortSignal): Promise<ConfigChange[]> {
  const routes = [...new Set(opportunities.map((o) => o.route))].map((r) => findRoute(config, r)).filter((r) => r !== undefined);
  const user = JSON.stringify({ opportunities, routes, limits: { max_timeout_ms: settings.max_timeout_ms, max_retries: settings.max_retries } });
  const text = await askWithin(llm, settings.llm_model, user, settings.generation_timeout_seconds, signal);
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error('the answer holds no JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(start, end + 1));
  } catch (e) {
    throw new Error(`the answer is not valid JSON: ${(e as Error).message}`);
  }
  const f = fieldSchemas(settings);
  const change = z.discriminatedUnion('field', [
    z.object({ route: z.string(), field: z.literal('timeout_ms'), to: f.timeout_ms, reason: z.string().max(2000) }),
    z.object({ route: z.string(), field: z.literal('retries'), to: f.retries, reason: z.string().max(2000) }),
    z.object({ route: z.string(), field: z.literal('cache'), to: f.cache, reason: z.string().max(2000) }),
    z.object({ route: z.string(), field: z.literal('fallbacks'), to: f.fallbacks, reason: z.string().max(2000) }),
  ]);
  const r = z.object({ changes: z.array(change).min(1).max(20) }).safeParse(parsed);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`the answer does not match the schema at ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`);
  }
  return r.data.changes.map((c) => {
    // The model may name a route by its `name` or its `pattern`: keep the opportunity's key (the
    // one analytics records), so monitoring compares the same route's telemetry.
    const route = findRoute(config, c.route);
    const key = route && opportunities.find((o) => findRoute(config, o.route) === route)?.route;
    if (!route || key === undefined) throw new Error(`route ${c.route} has no opportunity`);
    return { route: key, field: c.field, from: route[c.field] ?? null, to: c.to, reason: `LLM: ${c.reason}` };
  });
}
