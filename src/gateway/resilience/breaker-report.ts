import type { BreakerState, BreakerTransition } from './breaker.js';
import { worstBreakerState } from './providers.js';

/** Where breaker transitions are written (the gateway's logger). */
export interface BreakerLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

const seconds = (ms: number): number => Math.ceil(ms / 1000);

/**
 * One line per change of state: a warning when a provider's circuit opens (its requests are
 * refused with 503 circuit_open, or go to a fallback, until the retry), a line when it lets a probe
 * through and when it closes. `llm_circuit_breaker_state` is the guides' name for the state.
 */
export function logBreakerTransition(log: BreakerLog, t: BreakerTransition): void {
  const fields = { provider: t.provider, llm_circuit_breaker_state: t.to, from: t.from, failures: t.failures };
  if (t.to === 'open') {
    log.warn({ ...fields, retry_in_s: seconds(t.retryInMs) }, `LLM circuit breaker open: ${t.provider}, ${t.failures} failures, retry in ${seconds(t.retryInMs)} s`);
  } else if (t.to === 'half_open') {
    log.info(fields, `LLM circuit breaker half-open: ${t.provider}, one probe request goes through`);
  } else {
    log.info({ ...fields, closed_by: t.closedBy }, `LLM circuit breaker closed: ${t.provider}, ${t.closedBy === 'reset' ? 'reset by hand' : 'a request succeeded'}`);
  }
}

type BreakerSnapshot = { state: BreakerState; consecutiveFailures: number; retryInMs: number };

/**
 * The gateway's health as its breakers make it: degraded while a provider's circuit is open,
 * naming it and when it lets a probe through. `serving`: the gateway still answers (other
 * providers, fallbacks, a 503 with retry-after), so /health need not call the daemon down.
 */
export function breakerHealth(breakers: Record<string, BreakerSnapshot>): {
  status: 'ok' | 'degraded';
  llm_circuit_breaker_state: BreakerState;
  openCircuits: string[];
  serving?: true;
  error?: string;
} {
  const open = Object.entries(breakers).filter(([, b]) => b.state === 'open');
  const state = worstBreakerState(Object.values(breakers).map((b) => b.state));
  if (open.length === 0) return { status: 'ok', llm_circuit_breaker_state: state, openCircuits: [] };
  const each = open.map(([name, b]) => `${name} (${b.consecutiveFailures} failures, retry in ${seconds(b.retryInMs)} s)`);
  return {
    status: 'degraded',
    llm_circuit_breaker_state: state,
    openCircuits: open.map(([name]) => name),
    serving: true,
    error:
      `LLM circuit breaker open for ${each.join(', ')}: its requests get 503 circuit_open (or go to their route's fallback) until it lets a probe request through. ` +
      'Check the provider (`cco daemon logs`); to let requests through at once: POST /api/gateway/breakers/reset {"service":"llm"} or MCP reset_circuit_breaker {"service":"llm"}.',
  };
}
