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
import { safeRelativePath, UnsafePathError } from './workspace.js';

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

export interface RunStageOptions<S extends StageName> {
  stage: S;
  agent: StageAgent;
  context: StageContext;
  client: LlmClient;
  cfg: PipelineConfig;
  taskId: string;
  signal: AbortSignal;
  log(level: 'info' | 'warn', msg: string, extra?: Record<string, unknown>): void;
}

/**
 * One stage: ask the agent, parse its reply against the stage's schema. A call that fails
 * (HTTP error, broken answer) is retried `call_retries` times; a reply that does not parse is
 * sent back with the parse error `parse_retries` times. Then the stage fails, keeping the raw
 * reply. Never invents an output.
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
  let raw: string | null = null;
  for (;;) {
    if (o.signal.aborted) throw new StageAborted();
    let reply;
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
      });
    } catch (e) {
      if (o.signal.aborted) throw new StageAborted();
      const msg = e instanceof LlmCallError ? e.message : `unexpected error: ${(e as Error).message}`;
      callFailures++;
      if (callFailures > o.cfg.call_retries) {
        return { ok: false, error: `${o.agent.name} (${o.stage}) could not get an answer: ${msg} (${callFailures} attempt${callFailures > 1 ? 's' : ''})`, raw, calls, usage };
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

/** Checks beyond the schema: file paths, counts and sizes, and the output format. */
function checkOutput<S extends StageName>(stage: S, out: StageOutputs[S], c: StageContext, cfg: PipelineConfig): string | undefined {
  if (stage !== 'implementation') return undefined;
  const files = (out as StageOutputs['implementation']).files;
  if (files.length > cfg.max_files) return `${files.length} files is more than the limit of ${cfg.max_files}`;
  const seen = new Set<string>();
  for (const f of files) {
    try {
      const p = safeRelativePath(f.path);
      if (seen.has(p)) return `file ${p} appears twice`;
      seen.add(p);
    } catch (e) {
      return e instanceof UnsafePathError ? e.message : String(e);
    }
    if (Buffer.byteLength(f.content) > cfg.max_file_bytes) return `file ${f.path} is larger than ${cfg.max_file_bytes} bytes`;
  }
  return formatProblem(c.format, files);
}
