import { setTimeout as delay } from 'node:timers/promises';
import type { PipelineConfig } from '../config/sections/pipeline.js';
import type { StageAgent } from './agents.js';
import { parseStageReply } from './json-reply.js';
import { LlmCallError } from './llm-client.js';
import type { LlmClient, LlmMessage } from './llm-client.js';
import { formatProblem, repairPrompt, systemPrompt, userPrompt } from './prompts.js';
import type { StageContext } from './prompts.js';
import { STAGE_SCHEMAS } from './schemas.js';
import type { StageOutputs } from './schemas.js';
import type { StageName } from './types.js';
import { fileSetProblem, shortPath, withReadme } from './workspace.js';

export type StageResult<S extends StageName> =
  | { ok: true; output: StageOutputs[S]; raw: string; calls: number; usage: Usage }
  | { ok: false; error: string; raw: string | null; calls: number; usage: Usage };

interface Usage {
  input_tokens: number;
  output_tokens: number;
}

/** Thrown when the task was cancelled or the daemon is stopping while a call was in flight. */
export class StageAborted extends Error {
  constructor() {
    super('aborted');
    this.name = 'StageAborted';
  }
}

/**
 * How long a stage waits for a gateway that answered "not now, retry in …" (its circuit breaker
 * for the provider is open, its queue is full, a rate limit): each wait at most `maxWaitMs`,
 * all of a stage's waits together at most `maxTotalMs`. Beyond that the answer counts as a
 * failed call like any other.
 */
export interface BusyWaitLimits {
  maxWaitMs: number;
  maxTotalMs: number;
}

export const BUSY_WAIT: BusyWaitLimits = { maxWaitMs: 60_000, maxTotalMs: 5 * 60_000 };

/** An LLM answer slower than this is a warning sign ("Response time exceeded 30s"), logged once per call. */
export const SLOW_CALL_MS = 30_000;

/** A wait the stage is about to make, for the task's live view. */
export interface StageWait {
  waitMs: number;
  /** What the gateway said, e.g. "the gateway answered 503 api_error: Circuit breaker … is open …". */
  reason: string;
}

export interface RunStageOptions<S extends StageName> {
  stage: S;
  agent: StageAgent;
  context: StageContext;
  client: LlmClient;
  cfg: PipelineConfig;
  taskId: string;
  signal: AbortSignal;
  /** Ask the provider even when the gateway's cache holds the answer (a retried task). */
  bypassCache?: boolean;
  busyWait?: BusyWaitLimits;
  /** A call answered after longer than this is logged as slow (default `SLOW_CALL_MS`; tests set less). */
  slowCallMs?: number;
  /** Called before each wait for a busy gateway (the task shows it is waiting, not failing). */
  onWait?(w: StageWait): void;
  log(level: 'info' | 'warn', msg: string, extra?: Record<string, unknown>): void;
}

/**
 * One stage: ask the agent, parse its reply against the stage's schema. A call that fails
 * (HTTP error, broken answer) is retried `call_retries` times; a reply that does not parse is
 * sent back with the parse error `parse_retries` times. Then the stage fails, keeping the raw
 * reply. Never invents an output. A gateway that asks to wait (breaker open, rate limit) is
 * waited for, within `BUSY_WAIT`, without spending `call_retries`: a brief provider outage
 * delays the task instead of failing it.
 */
export async function runStage<S extends StageName>(o: RunStageOptions<S>): Promise<StageResult<S>> {
  const schema = STAGE_SCHEMAS[o.stage];
  const system = systemPrompt(o.stage, o.agent.prompt, o.context.format);
  const first: LlmMessage = { role: 'user', content: userPrompt(o.stage, o.context) };
  let messages: LlmMessage[] = [first];
  const usage: Usage = { input_tokens: 0, output_tokens: 0 };
  let calls = 0;
  let callFailures = 0;
  let parseFailures = 0;
  let waitedMs = 0;
  let raw: string | null = null;
  for (;;) {
    if (o.signal.aborted) throw new StageAborted();
    let reply;
    const callStarted = Date.now();
    try {
      calls++;
      reply = await o.client.complete({
        model: o.agent.model,
        system,
        messages,
        maxTokens: o.cfg.max_tokens,
        temperature: o.cfg.temperature,
        agent: `pipeline-${o.agent.id}`,
        taskId: o.taskId,
        signal: o.signal,
        ...(o.bypassCache ? { bypassCache: true } : {}),
      });
      warnIfSlow(o, callStarted);
    } catch (e) {
      if (o.signal.aborted) throw new StageAborted();
      // an answer (an HTTP error) counts; a call that timed out or never connected does not
      if (e instanceof LlmCallError && e.status !== undefined) warnIfSlow(o, callStarted);
      const msg = e instanceof LlmCallError ? e.message : `unexpected error: ${(e as Error).message}`;
      const waitMs = busyWaitMs(e, waitedMs, o.busyWait ?? BUSY_WAIT);
      if (waitMs !== undefined) {
        waitedMs += waitMs;
        o.log('warn', `${o.stage}: the gateway asked to wait; trying again in ${Math.ceil(waitMs / 1000)} s: ${msg}`, { wait_ms: waitMs });
        o.onWait?.({ waitMs, reason: msg });
        await pause(waitMs, o.signal);
        continue;
      }
      callFailures++;
      // the same request gets the same answer: a bad request, a refused key, a missing model
      const final = e instanceof LlmCallError && e.status !== undefined && FINAL_STATUSES.has(e.status);
      if (final || callFailures > o.cfg.call_retries) {
        const waited = waitedMs > 0 ? `, after waiting ${Math.ceil(waitedMs / 1000)} s for the provider` : '';
        return { ok: false, error: `${o.agent.name} (${o.stage}) could not get an answer: ${msg} (${callFailures} attempt${callFailures > 1 ? 's' : ''}${waited})`, raw, calls, usage };
      }
      o.log('warn', `${o.stage}: LLM call failed, retrying: ${msg}`, { attempt: callFailures });
      continue;
    }
    usage.input_tokens += reply.usage.input_tokens;
    usage.output_tokens += reply.usage.output_tokens;
    raw = reply.toolInput ? JSON.stringify(reply.toolInput) : reply.text;
    const parsed = parseStageReply(schema, reply.toolInput ?? reply.text);
    let problem = parsed.ok ? checkOutput(o.stage, parsed.value as StageOutputs[S], o.context, o.cfg) : parsed.error;
    if (problem && reply.stopReason === 'max_tokens') problem += ` (the reply was cut off at max_tokens = ${o.cfg.max_tokens}; raise [pipeline] max_tokens or ask for less)`;
    if (parsed.ok && !problem) return { ok: true, output: parsed.value as StageOutputs[S], raw, calls, usage };
    parseFailures++;
    if (parseFailures > o.cfg.parse_retries) {
      return { ok: false, error: `${o.agent.name} (${o.stage}) reply could not be used after ${parseFailures} attempt${parseFailures > 1 ? 's' : ''}: ${problem}`, raw, calls, usage };
    }
    o.log('warn', `${o.stage}: reply did not parse, asking again: ${problem}`, { attempt: parseFailures });
    messages = [first, { role: 'assistant', content: raw.trim() ? raw.slice(0, 100_000) : '(empty reply)' }, { role: 'user', content: repairPrompt(problem ?? 'invalid') }];
  }
}

/** Logs a call that was answered, but only after more than `slowCallMs`: which stage, agent and model, and how long. */
function warnIfSlow(o: RunStageOptions<StageName>, startedAt: number): void {
  const ms = Date.now() - startedAt;
  const limit = o.slowCallMs ?? SLOW_CALL_MS;
  if (ms <= limit) return;
  o.log('warn', `Response time exceeded ${limit / 1000}s: ${o.stage}: ${o.agent.name} (${o.agent.id}, model ${o.agent.model}) took ${(ms / 1000).toFixed(1)} s to answer: the provider is slow or the request is large (a faster model in [pipeline] stage_models, or a smaller context_max_chars, helps)`, { model: o.agent.model, duration_ms: ms, slow_call: true });
}

/** Answers that a retry of the same call would get again. */
const FINAL_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 413, 422]);

/**
 * How long to wait before calling again, when the gateway announced it (`retry-after` on a
 * 429/503/529) and the stage's waiting budget is not spent; undefined otherwise.
 */
function busyWaitMs(e: unknown, waitedMs: number, limits: BusyWaitLimits): number | undefined {
  if (!(e instanceof LlmCallError) || e.retryAfterMs === undefined) return undefined;
  const left = limits.maxTotalMs - waitedMs;
  if (left <= 0) return undefined;
  // a floor, so that a `retry-after: 0` does not turn into a tight loop
  return Math.min(Math.max(e.retryAfterMs, 100), limits.maxWaitMs, left);
}

/** Sleeps, ending early with StageAborted on cancel or shutdown. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    throw new StageAborted();
  }
}

/** Checks beyond the schema: file paths, counts and sizes, and the output format. */
function checkOutput<S extends StageName>(stage: S, out: StageOutputs[S], c: StageContext, cfg: PipelineConfig): string | undefined {
  if (stage !== 'implementation') return undefined;
  const files = (out as StageOutputs['implementation']).files;
  if (files.length > cfg.max_files) return `${files.length} files is more than the limit of ${cfg.max_files}`;
  const pathProblem = fileSetProblem(withReadme(files.map((f) => f.path)));
  if (pathProblem) return pathProblem;
  const big = files.find((f) => Buffer.byteLength(f.content) > cfg.max_file_bytes);
  if (big) return `file ${shortPath(big.path)} is larger than ${cfg.max_file_bytes} bytes`;
  return formatProblem(c.format, files);
}
