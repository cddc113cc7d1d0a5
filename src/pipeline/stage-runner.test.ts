import { describe, expect, it } from 'vitest';
import { pipelineSection } from '../config/sections/pipeline.js';
import type { StageAgent } from './agents.js';
import { demoOutput } from './demo-responder.js';
import { LlmCallError } from './llm-client.js';
import type { LlmClient, LlmReply, LlmRequest } from './llm-client.js';
import { runStage, StageAborted } from './stage-runner.js';
import type { RunStageOptions, StageWait } from './stage-runner.js';
import type { StageName } from './types.js';

/** A client answering from a script: an LlmCallError to throw, or a reply's JSON text. */
function scripted(...script: (LlmCallError | Record<string, unknown>)[]): LlmClient & { calls: LlmRequest[] } {
  const calls: LlmRequest[] = [];
  return {
    calls,
    complete(req) {
      calls.push(req);
      const next = script.shift();
      if (next === undefined) throw new Error('script ran out');
      if (next instanceof LlmCallError) return Promise.reject(next);
      const reply: LlmReply = { text: JSON.stringify(next), toolInput: undefined, model: req.model, stopReason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
      return Promise.resolve(reply);
    },
  };
}

const breakerOpen = (retryAfterMs: number) => new LlmCallError('the gateway answered 503 api_error: Circuit breaker for anthropic is open after repeated failures; retrying in 1 s', 503, retryAfterMs);
const upstream500 = () => new LlmCallError('the gateway answered 500 api_error: boom', 500);

function options<S extends StageName>(stage: S, client: LlmClient, extra: Partial<RunStageOptions<S>> = {}): RunStageOptions<S> & { waits: StageWait[]; logs: string[] } {
  const waits: StageWait[] = [];
  const logs: string[] = [];
  const agent: StageAgent = { id: 'agent', stage, name: 'Agent', role: 'r', prompt: 'p', model: 'claude-test', source: 'built-in' };
  return {
    stage,
    agent,
    context: { requirement: 'a small tool', enhanced: null, format: 'code', outputs: {}, maxChars: 100_000 },
    client,
    cfg: pipelineSection.parse({ call_retries: 1, parse_retries: 1 }),
    taskId: 't_abcdefgh12',
    signal: new AbortController().signal,
    busyWait: { maxWaitMs: 50, maxTotalMs: 1000 },
    onWait: (w) => waits.push(w),
    log: (_level, msg) => logs.push(msg),
    waits,
    logs,
    ...extra,
  };
}

describe('runStage and a busy gateway', () => {
  it('waits the announced time when the breaker is open, without spending call_retries', async () => {
    const analysis = demoOutput('analysis', 'a small tool', 'code');
    const client = scripted(breakerOpen(120), breakerOpen(120), breakerOpen(120), upstream500(), analysis);
    const o = options('analysis', client, { busyWait: { maxWaitMs: 1000, maxTotalMs: 1000 } });
    const started = Date.now();
    const r = await runStage(o);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    expect(client.calls).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(o.waits).toEqual([1, 2, 3].map(() => ({ waitMs: 120, reason: expect.stringMatching(/^the gateway answered 503 api_error: Circuit breaker/) as unknown })));
    expect(o.logs.filter((l) => l.startsWith('analysis: the gateway asked to wait; trying again in 1 s'))).toHaveLength(3);
    expect(o.logs.filter((l) => l.startsWith('analysis: LLM call failed, retrying'))).toHaveLength(1);
  });

  it('caps each wait, and once the waiting budget is spent counts the answer as a failure', async () => {
    const client = scripted(...Array.from({ length: 30 }, () => breakerOpen(3_600_000)));
    const o = options('analysis', client, { busyWait: { maxWaitMs: 40, maxTotalMs: 100 } });
    const r = await runStage(o);
    expect(r.ok).toBe(false);
    expect(o.waits.map((w) => w.waitMs)).toEqual([40, 40, 20]);
    // three waits, then two calls counted as failures (call_retries = 1)
    expect(client.calls).toHaveLength(5);
    expect(r.ok ? '' : r.error).toMatch(/^Agent \(analysis\) could not get an answer: the gateway answered 503 .* \(2 attempts, after waiting 1 s for the provider\)$/);
  });

  it('stops waiting at once on cancel or shutdown', async () => {
    const ac = new AbortController();
    const client = scripted(breakerOpen(60_000));
    const o = options('analysis', client, { signal: ac.signal, busyWait: { maxWaitMs: 60_000, maxTotalMs: 60_000 } });
    const started = Date.now();
    setTimeout(() => ac.abort(), 30);
    await expect(runStage(o)).rejects.toBeInstanceOf(StageAborted);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails at once on an error without retry-after (as before)', async () => {
    const client = scripted(upstream500(), upstream500());
    const o = options('analysis', client);
    const r = await runStage(o);
    expect(r.ok ? '' : r.error).toBe('Agent (analysis) could not get an answer: the gateway answered 500 api_error: boom (2 attempts)');
    expect(o.waits).toEqual([]);
  });

  it('does not repeat a call the gateway refused for good (a bad key, a bad request)', async () => {
    const client = scripted(new LlmCallError('the gateway answered 401 authentication_error: invalid x-api-key', 401), demoOutput('analysis', 'a small tool', 'code'));
    const o = options('analysis', client);
    const r = await runStage(o);
    expect(client.calls).toHaveLength(1);
    expect(r.ok ? '' : r.error).toBe('Agent (analysis) could not get an answer: the gateway answered 401 authentication_error: invalid x-api-key (1 attempt)');
  });
});

describe('runStage and the implementation\'s file paths', () => {
  const good = demoOutput('implementation', 'a small tool', 'code');
  it.each([
    ['a file and a folder of the same name', [{ path: 'a', content: 'x' }, { path: 'a/b.js', content: 'y' }], /"a" is both a file and the folder of "a\/b\.js"; rename one of them/],
    ['a folder, then a file of its name', [{ path: 'lib/x/y.js', content: 'x' }, { path: './lib/x', content: 'y' }], /"lib\/x" is both a file and the folder of "lib\/x\/y\.js"/],
    ['the README folder', [{ path: 'README.md/x.js', content: 'x' }], /"README\.md" is both a file and the folder of "README\.md\/x\.js"/],
    ['a name too long for the file system', [{ path: `${'é'.repeat(200)}.js`, content: 'x' }], /the name "é{20}…" is 403 bytes in UTF-8; a file or folder name may have at most 200/],
  ])('sends %s back to the agent, which gets its retry', async (_what, files, problem) => {
    const client = scripted({ files, notes: '' }, good);
    const r = await runStage(options('implementation', client));
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    const retry = client.calls[1]?.messages.at(-1)?.content ?? '';
    expect(retry).toMatch(problem);
    expect(retry.length).toBeLessThan(1500);
  });
});

describe('runStage and a slow answer (seed 002: "Response time exceeded 30s")', () => {
  /** A client that answers each call after `ms` (the script's next entry). */
  function slow(ms: number, ...script: (LlmCallError | Record<string, unknown>)[]): LlmClient {
    const inner = scripted(...script);
    return { complete: (req) => new Promise((r) => setTimeout(r, ms)).then(() => inner.complete(req)) };
  }

  it('warns once per call answered after the limit, naming stage, agent, model and duration', async () => {
    const client = slow(80, upstream500(), demoOutput('analysis', 'a small tool', 'code'));
    const warned: { msg: string; extra: Record<string, unknown> | undefined }[] = [];
    const o = options('analysis', client, { slowCallMs: 40, log: (level, msg, extra) => void (level === 'warn' && msg.includes('to answer') && warned.push({ msg, extra })) });
    const r = await runStage(o);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    // the 500 was an answer too: two slow calls, two warnings
    expect(warned).toHaveLength(2);
    expect(warned[0]?.msg).toMatch(/^Response time exceeded 0\.04s: analysis: Agent \(agent, model claude-test\) took \d+\.\d s to answer: the provider is slow/);
    expect(warned[0]?.extra).toMatchObject({ model: 'claude-test', slow_call: true, duration_ms: expect.any(Number) as unknown });
  });

  it('stays quiet for a quick answer, and for a call that got no answer (its timeout says so already)', async () => {
    const quick = options('analysis', scripted(demoOutput('analysis', 'a small tool', 'code')), { slowCallMs: 1000 });
    await runStage(quick);
    expect(quick.logs.filter((l) => l.includes('to answer'))).toEqual([]);
    const timedOut = new LlmCallError('the gateway did not answer within 50 ms; raise [pipeline] request_timeout_ms in daemon.toml', undefined);
    const hung = options('analysis', slow(80, timedOut, timedOut), { slowCallMs: 40 });
    const r = await runStage(hung);
    expect(r.ok ? '' : r.error).toBe('Agent (analysis) could not get an answer: the gateway did not answer within 50 ms; raise [pipeline] request_timeout_ms in daemon.toml (2 attempts)');
    expect(hung.logs.filter((l) => l.includes('to answer'))).toEqual([]);
  });
});
