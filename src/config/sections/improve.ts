import { z } from 'zod';
import { withEnvSettings } from '../env-settings.js';

/**
 * `[improve]` in daemon.toml: the self-improvement cycle. The seed's settings keep their names
 * in upper case as environment variables (`ROLLBACK_DEGRADATION_THRESHOLD` ...) and in lower
 * case here; the environment wins (see `improveSettings`).
 */
export const improveSection = z
  .object({
    enabled: z.boolean().default(true),
    /** Relative worsening of a metric after a change that triggers the automatic rollback (0.10 = 10%). */
    rollback_degradation_threshold: z.number().min(0).max(10).default(0.1),
    /** How long an applied change is watched before the cycle completes. */
    monitoring_duration_seconds: z.number().min(0).max(7 * 24 * 3600).default(3600),
    /** How often the watched metrics are read during monitoring. */
    monitoring_interval_seconds: z.number().min(0.05).max(3600).default(30),
    /** Cycles running at once at most (a trigger beyond gets 409). */
    max_concurrent_improvements: z.number().int().min(1).max(100).default(3),
    /** p95 latency worse than the previous window by this fraction is an opportunity (0.15 = 15%). */
    performance_degradation_threshold: z.number().min(0).max(10).default(0.15),
    /** Errors in the window on one route from which it is an opportunity. */
    error_frequency_threshold: z.number().int().min(1).default(10),
    /** Share of requests that timed out from which raising the route's timeout is proposed. */
    timeout_rate_threshold: z.number().min(0).max(1).default(0.05),
    /** Share of repeated identical requests that missed the cache from which caching is proposed. */
    cache_repeat_threshold: z.number().min(0).max(1).default(0.3),
    /** A route needs this many requests in the window (and in monitoring) to be judged. */
    min_requests: z.number().int().min(1).default(20),
    /** Default analysis window of a triggered cycle. */
    analysis_window_hours: z.number().min(0.001).max(24 * 90).default(24),
    /** A raised timeout is the old one times this factor, capped by `max_timeout_ms`. */
    timeout_raise_factor: z.number().min(1.05).max(10).default(1.5),
    max_timeout_ms: z.number().int().min(1000).default(600_000),
    max_retries: z.number().int().min(0).max(20).default(5),
    /** Run a cycle automatically every N hours (0 = only when triggered). */
    auto_cycle_hours: z.number().min(0).default(0),
    /** Ask an LLM through the gateway for a proposal (schema-validated) before the rules. */
    llm_proposals: z.boolean().default(false),
    llm_model: z.string().default('claude-haiku-4-5'),
    /** An LLM proposal not answered within this is abandoned for the rules' proposal. */
    generation_timeout_seconds: z.number().min(1).max(3600).default(60),
  })
  .strict()
  .prefault({});

export type ImproveConfig = z.infer<typeof improveSection>;

const ENV_KEYS: Record<string, keyof ImproveConfig> = {
  ROLLBACK_DEGRADATION_THRESHOLD: 'rollback_degradation_threshold',
  MONITORING_DURATION_SECONDS: 'monitoring_duration_seconds',
  MAX_CONCURRENT_IMPROVEMENTS: 'max_concurrent_improvements',
  PERFORMANCE_DEGRADATION_THRESHOLD: 'performance_degradation_threshold',
  ERROR_FREQUENCY_THRESHOLD: 'error_frequency_threshold',
  IMPROVEMENT_CYCLE_ANALYSIS_WINDOW_HOURS: 'analysis_window_hours',
  GENERATION_TIMEOUT_SECONDS: 'generation_timeout_seconds',
};

/** The seed's environment variables this section reads (a `.env` file may hold them too). */
export const IMPROVE_ENV_NAMES: readonly string[] = Object.keys(ENV_KEYS);

/**
 * The section with the seed's environment variables applied (`MONITORING_DURATION_SECONDS=7200`).
 * A malformed value is an error naming the variable, never silently ignored.
 */
export function improveSettings(section: ImproveConfig, env: Record<string, string | undefined>): ImproveConfig {
  return withEnvSettings(improveSection, section, env, ENV_KEYS, 'improve');
}
