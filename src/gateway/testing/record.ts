import { zeroCost } from '../analytics/pricing.js';
import type { RequestRecord } from '../analytics/record.js';
import { emptyUsage } from '../proxy/usage.js';

/** A finished request's record for tests: a plain non-streaming 200 from anthropic; a test overrides what it is about. */
export function testRecord(o: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: 'r',
    ts: Date.now(),
    endpoint: 'messages',
    clientFormat: 'anthropic',
    provider: 'anthropic',
    route: 'default',
    model: 'claude-sonnet-4-5',
    upstreamModel: 'claude-sonnet-4-5',
    status: 200,
    errorType: null,
    stream: false,
    cacheHit: false,
    usage: emptyUsage(),
    cost: zeroCost(),
    costSaved: 0,
    latencyMs: 3,
    ttftMs: null,
    retries: 0,
    fallbackFrom: null,
    sessionId: null,
    agentId: null,
    parentAgentId: null,
    client: null,
    project: null,
    cacheKey: null,
    params: {},
    ...o,
  };
}
