import { describe, expect, it } from 'vitest';
import { improveSection, improveSettings } from '../config/sections/improve.js';
import { findOpportunities } from './analyze.js';
import { applyChanges, changesInForce, revertChanges, validateChanges } from './changes.js';
import { judge } from './monitor.js';
import { findRoute, ruleProposal } from './propose.js';
import { routeStatsOf } from './synthetic.js';
import type { RouteStats, RoutingConfig } from './types.js';

const S = improveSection.parse({});
const stats = (over: Partial<RouteStats> & { route: string }): RouteStats => ({
  requests: 100, errors: 0, timeouts: 0, retries: 0, fallbacks_used: 0, cache_hits: 0, repeated_misses: 0, latency_p50_ms: 800, latency_p95_ms: 1500, cost_usd: 0, ...over,
});
const CONFIG: RoutingConfig = {
  routes: [
    { name: 'claude', pattern: '^claude-', provider: 'anthropic', timeout_ms: 300_000, retries: 2 },
    { pattern: '^gpt-', provider: 'openai', cache: false },
  ],
  defaults: { timeout_ms: 120_000, retries: 2 },
};

describe('findOpportunities', () => {
  it('flags each threshold crossed, per route, and ignores routes with too few requests', () => {
    const found = findOpportunities(
      [
        stats({ route: 'claude', timeouts: 10, errors: 25, latency_p95_ms: 2000 }),
        stats({ route: '^gpt-', repeated_misses: 40 }),
        stats({ route: 'tiny', requests: 5, timeouts: 5, errors: 5 }),
      ],
      [stats({ route: 'claude', latency_p95_ms: 1500 })],
      S,
    );
    expect(found.map((o) => `${o.route}:${o.kind}`)).toEqual(['claude:timeouts', 'claude:errors', 'claude:latency_degradation', '^gpt-:cache_misses']);
    expect(found[1]).toMatchObject({ value: 15, threshold: 10 }); // timeouts are not counted twice
  });

  it('counts only answered requests as repeated cache misses (a failed request is never cached)', () => {
    const failing = Array.from({ length: 25 }, (_, i) => ({ ts: i, route: '^dead-', latency_ms: 5, status: 'error' as const, repeat: i > 0 }));
    const [dead] = routeStatsOf(failing);
    expect(dead).toMatchObject({ requests: 25, errors: 25, repeated_misses: 0 });
    expect(findOpportunities([dead as RouteStats], [], S).map((o) => o.kind)).toEqual(['errors']);
    const answered = failing.map((r) => ({ ...r, status: 'ok' as const }));
    expect(routeStatsOf(answered)[0]?.repeated_misses).toBe(24);
  });

  it('stays quiet below the thresholds', () => {
    expect(findOpportunities([stats({ route: 'claude', timeouts: 4, errors: 13, latency_p95_ms: 1700, repeated_misses: 29 })], [stats({ route: 'claude' })], S)).toEqual([]);
  });
});

describe('routes by the key analytics records', () => {
  it('finds a named route by its pattern (what the gateway records) and by its name', () => {
    expect(findRoute(CONFIG, '^claude-')).toBe(CONFIG.routes[0]);
    expect(findRoute(CONFIG, 'claude')).toBe(CONFIG.routes[0]);
    expect(findRoute(CONFIG, '^gpt-')).toBe(CONFIG.routes[1]);
    expect(findRoute(CONFIG, 'nope')).toBeUndefined();
  });

  it('proposes, validates and applies a change to a named route its telemetry keys by pattern', () => {
    const changes = ruleProposal(CONFIG, findOpportunities([stats({ route: '^claude-', errors: 30 })], [], S), S);
    expect(changes).toEqual([expect.objectContaining({ route: '^claude-', field: 'retries', from: 2, to: 3 })]);
    expect(validateChanges(CONFIG, changes, S)).toEqual([]);
    expect(applyChanges(CONFIG, changes).routes[0]).toMatchObject({ name: 'claude', retries: 3 });
  });
});

describe('rule proposals, validation and rollback', () => {
  const opps = findOpportunities([stats({ route: 'claude', timeouts: 10, errors: 30 }), stats({ route: '^gpt-', repeated_misses: 50 })], [], S);
  const changes = ruleProposal(CONFIG, opps, S);

  it('raises a firing timeout (capped), adds a retry, and turns caching back on', () => {
    expect(changes).toEqual([
      expect.objectContaining({ route: 'claude', field: 'timeout_ms', from: 300_000, to: 450_000 }),
      expect.objectContaining({ route: 'claude', field: 'retries', from: 2, to: 3 }),
      expect.objectContaining({ route: '^gpt-', field: 'cache', from: false, to: true }),
    ]);
    const capped = ruleProposal({ routes: [{ name: 'claude', pattern: 'x', timeout_ms: 500_000 }] }, opps, S);
    expect(capped[0]).toMatchObject({ to: 600_000 });
  });

  it('applies and reverts exactly the changed fields, leaving the input untouched', () => {
    expect(validateChanges(CONFIG, changes, S)).toEqual([]);
    const next = applyChanges(CONFIG, changes);
    expect(CONFIG.routes[0]?.timeout_ms).toBe(300_000);
    expect(changesInForce(next, changes)).toBe(true);
    expect(revertChanges(next, changes)).toEqual({ config: CONFIG, leftAlone: [] });
  });

  it('reverts only a field that still holds the cycle\'s value, and lists the ones left alone', () => {
    const next = applyChanges(CONFIG, changes);
    (next.routes[0] as { retries: number }).retries = 4; // edited (or changed by someone else) since
    const { config, leftAlone } = revertChanges(next, changes);
    expect(config.routes[0]).toMatchObject({ timeout_ms: 300_000, retries: 4 });
    expect(config.routes[1]?.cache).toBe(false);
    expect(leftAlone).toEqual([expect.objectContaining({ route: 'claude', field: 'retries', expected: 3, found: 4, detail: expect.stringContaining('left as it is') })]);
  });

  it('refuses unknown routes, out-of-bounds values and stale `from`', () => {
    expect(validateChanges(CONFIG, [{ route: 'nope', field: 'retries', from: 1, to: 2, reason: '' }], S)[0]).toMatch(/no such route/);
    expect(validateChanges(CONFIG, [{ route: 'claude', field: 'timeout_ms', from: 300_000, to: 10_000_000, reason: '' }], S)[0]).toMatch(/timeout_ms/);
    expect(validateChanges(CONFIG, [{ route: 'claude', field: 'retries', from: 7, to: 3, reason: '' }], S)[0]).toMatch(/config changed meanwhile/);
    expect(validateChanges(CONFIG, [], S)).toEqual(['the proposal changes nothing']);
  });
});

describe('judge', () => {
  const t = [{ route: 'claude', field: 'timeout_ms' as const, from: 1, to: 2, reason: '' }];
  it('rolls back when a watched metric worsens past the threshold, not on a slower p95 after a timeout raise', () => {
    const before = [stats({ route: 'claude', timeouts: 20, errors: 20 })];
    const better = judge(t, before, [stats({ route: 'claude', timeouts: 2, errors: 2, latency_p95_ms: 9000 })], 0.1, 20);
    expect(better.degraded).toBe(false);
    const worse = judge(t, before, [stats({ route: 'claude', timeouts: 23, errors: 23 })], 0.1, 20);
    expect(worse.degraded).toBe(true);
    expect(worse.checks.find((c) => c.metric === 'timeout_rate')).toMatchObject({ before: 0.2, after: 0.23, degraded: true });
  });
  it('does not judge a route with too few requests since the change', () => {
    expect(judge(t, [stats({ route: 'claude' })], [stats({ route: 'claude', requests: 3, errors: 3 })], 0.1, 20)).toMatchObject({ degraded: false, insufficient: ['claude'] });
  });
});

describe('improveSettings', () => {
  it('takes the seed\'s environment variables over the config, and names a bad one', () => {
    const s = improveSettings(S, { ROLLBACK_DEGRADATION_THRESHOLD: '0.15', MONITORING_DURATION_SECONDS: '7200', MAX_CONCURRENT_IMPROVEMENTS: '1', PERFORMANCE_DEGRADATION_THRESHOLD: '0.2', ERROR_FREQUENCY_THRESHOLD: '5' });
    expect(s).toMatchObject({ rollback_degradation_threshold: 0.15, monitoring_duration_seconds: 7200, max_concurrent_improvements: 1, performance_degradation_threshold: 0.2, error_frequency_threshold: 5 });
    expect(() => improveSettings(S, { MAX_CONCURRENT_IMPROVEMENTS: 'lots' })).toThrow('MAX_CONCURRENT_IMPROVEMENTS=lots is not a number');
    expect(() => improveSettings(S, { MAX_CONCURRENT_IMPROVEMENTS: '0' })).toThrow(/^MAX_CONCURRENT_IMPROVEMENTS=0: .*; change or unset MAX_CONCURRENT_IMPROVEMENTS$/);
  });

  it('gives an LLM proposal 60 s by default, GENERATION_TIMEOUT_SECONDS or [improve] generation_timeout_seconds otherwise', () => {
    expect(S.generation_timeout_seconds).toBe(60);
    expect(improveSettings(improveSection.parse({ generation_timeout_seconds: 90 }), {}).generation_timeout_seconds).toBe(90);
    expect(improveSettings(improveSection.parse({ generation_timeout_seconds: 90 }), { GENERATION_TIMEOUT_SECONDS: '120' }).generation_timeout_seconds).toBe(120);
    expect(() => improveSettings(S, { GENERATION_TIMEOUT_SECONDS: '0' })).toThrow(/^GENERATION_TIMEOUT_SECONDS=0: /);
  });
});
