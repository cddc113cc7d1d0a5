import type { Usage } from '../proxy/usage.js';
import type { Cost } from './pricing.js';

/** One finished gateway request, as analytics, metrics, the hub and the debug view see it. */
export interface RequestRecord {
  id: string;
  /** Start, epoch ms. */
  ts: number;
  endpoint: 'messages' | 'count_tokens' | 'chat_completions' | 'models';
  clientFormat: 'anthropic' | 'openai';
  provider: string;
  route: string;
  /** Model the client asked for. */
  model: string;
  /** Model that answered (differs after a fallback or a route's model rewrite). */
  upstreamModel: string;
  status: number;
  errorType: string | null;
  stream: boolean;
  cacheHit: boolean;
  usage: Usage;
  cost: Cost;
  /** On a cache hit: what the original request cost. */
  costSaved: number;
  latencyMs: number;
  ttftMs: number | null;
  retries: number;
  /** Set when a fallback model answered: the model that failed first. */
  fallbackFrom: string | null;
  sessionId: string | null;
  agentId: string | null;
  parentAgentId: string | null;
  /** User agent, shortened (e.g. claude-cli/2.1.197). */
  client: string | null;
  project: string | null;
  /** Cache key (for the debug view). */
  cacheKey: string | null;
  /** Output-affecting parameters, for spotting variations that defeat the cache. */
  params: Record<string, unknown>;
}
