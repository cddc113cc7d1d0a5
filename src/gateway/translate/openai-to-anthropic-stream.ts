import { openaiErrorType } from '../proxy/errors.js';
import { finishReasonFromAnthropic, JSON_TOOL, openaiUsageFromAnthropic } from './openai-to-anthropic.js';
import { parseJson, SseSplitter, sseData } from './sse.js';
import type { StreamTranslator } from './types.js';

type Obj = Record<string, unknown>;

/**
 * Anthropic Messages SSE → OpenAI chat.completion.chunk stream (role chunk, content and
 * tool-call deltas, a finish chunk, the usage chunk when the client asked for it, [DONE]).
 */
export class AnthropicToOpenaiStream implements StreamTranslator {
  complete = false;
  /** The upstream sent an error event: the stream ends there (never complete). */
  private failed = false;
  private readonly sse = new SseSplitter();
  private id = 'chatcmpl-cco';
  private readonly created = Math.floor(Date.now() / 1000);
  /** Tool-use blocks by their index → the call's index for the client, and whether any argument bytes went out. */
  private readonly tools = new Map<number, { k: number; sent: boolean }>();
  /** The block carrying the JSON answer (`response_format`), streamed as content. */
  private jsonBlock: number | undefined;
  private finish = 'stop';
  private usage: Obj = {};

  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
    /** The client asked for JSON (`response_format`): the forced tool's input is the answer. */
    private readonly json = false,
  ) {}

  private chunk(delta: Obj, finish: string | null = null): string {
    return sseData({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
  }

  push(c: Buffer): string {
    let out = '';
    for (const e of this.sse.push(c)) {
      if (this.complete || this.failed) break;
      const d = parseJson(e.data) as Obj | undefined;
      if (!d) continue;
      switch (d.type) {
        case 'message_start': {
          const m = d.message as Obj;
          this.id = `chatcmpl-${String(m.id ?? 'cco').replace(/^msg_/, '')}`;
          this.usage = { ...((m.usage as Obj | undefined) ?? {}) };
          out += this.chunk({ role: 'assistant', content: '' });
          break;
        }
        case 'content_block_start': {
          const b = d.content_block as Obj;
          if (b.type === 'tool_use' && this.json && b.name === JSON_TOOL) this.jsonBlock = Number(d.index);
          else if (b.type === 'tool_use') {
            const k = this.tools.size;
            this.tools.set(Number(d.index), { k, sent: false });
            out += this.chunk({ tool_calls: [{ index: k, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }] });
          }
          break;
        }
        case 'content_block_delta': {
          const delta = d.delta as Obj;
          if (delta.type === 'text_delta') out += this.chunk({ content: delta.text });
          else if (delta.type === 'input_json_delta' && Number(d.index) === this.jsonBlock) {
            if (delta.partial_json) out += this.chunk({ content: delta.partial_json });
          } else if (delta.type === 'input_json_delta') {
            const t = this.tools.get(Number(d.index));
            if (t && delta.partial_json) t.sent = true;
            out += this.chunk({ tool_calls: [{ index: t?.k ?? 0, function: { arguments: delta.partial_json } }] });
          }
          break;
        }
        case 'content_block_stop': {
          // A call without input streams no argument bytes; OpenAI sends "{}" for it, and clients
          // JSON.parse what they were sent ("" does not parse).
          const t = this.tools.get(Number(d.index));
          if (t && !t.sent) {
            t.sent = true;
            out += this.chunk({ tool_calls: [{ index: t.k, function: { arguments: '{}' } }] });
          }
          break;
        }
        case 'message_delta':
          this.finish = finishReasonFromAnthropic((d.delta as Obj | undefined)?.stop_reason);
          // the JSON answer's tool call is the answer, not a call for the client to make
          if (this.jsonBlock !== undefined && this.tools.size === 0 && this.finish === 'tool_calls') this.finish = 'stop';
          Object.assign(this.usage, (d.usage as Obj | undefined) ?? {});
          break;
        case 'message_stop':
          out += this.chunk({}, this.finish);
          if (this.includeUsage) out += sseData({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: openaiUsageFromAnthropic(this.usage) });
          out += 'data: [DONE]\n\n';
          this.complete = true;
          break;
        case 'error': {
          // the stream ends at its error: nothing after it is translated
          const err = (d.error as Obj | undefined) ?? {};
          out += sseData({ error: { message: String(err.message ?? 'upstream error'), type: openaiErrorType(500), code: err.type ?? null } });
          this.failed = true;
          return out;
        }
      }
    }
    return out;
  }
}
