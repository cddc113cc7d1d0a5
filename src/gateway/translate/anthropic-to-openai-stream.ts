import { randomUUID } from 'node:crypto';
import { anthropicErrorType } from '../proxy/errors.js';
import { anthropicUsageFromOpenai, stopReasonFromOpenai } from './anthropic-to-openai.js';
import { parseJson, SseSplitter, sseFrame } from './sse.js';
import type { StreamTranslator } from './types.js';

interface ChunkDelta {
  content?: string | null;
  tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
}
interface Chunk {
  id?: string;
  choices?: { delta?: ChunkDelta; finish_reason?: string | null }[];
  usage?: unknown;
  error?: { message?: string };
}

/**
 * OpenAI chat.completion.chunk stream → Anthropic Messages SSE (message_start, one
 * content block per text run or tool call, message_delta with stop reason and usage,
 * message_stop). The Anthropic events are emitted as the upstream chunks arrive.
 */
export class OpenaiToAnthropicStream implements StreamTranslator {
  complete = false;
  /** The upstream sent an error event: the stream ends there (never complete). */
  private failed = false;
  private readonly sse = new SseSplitter();
  private started = false;
  private index = -1;
  private open: 'text' | 'tool' | undefined;
  /** Tool calls by their key (see `toolKey`) → their content block's index. */
  private readonly toolBlocks = new Map<string, number>();
  private lastToolKey: string | undefined;
  private stop = 'end_turn';
  private usage: Record<string, unknown> = { input_tokens: 0, output_tokens: 0 };

  constructor(private readonly model: string) {}

  push(chunk: Buffer): string {
    let out = '';
    for (const e of this.sse.push(chunk)) {
      if (this.complete || this.failed) break;
      if (e.data === '[DONE]') {
        out += this.finish();
        continue;
      }
      const c = parseJson(e.data) as Chunk | undefined;
      if (!c) continue;
      if (c.error) {
        // An Anthropic stream ends at its error event: nothing after it (not even the message_stop
        // a later [DONE] would bring) is translated.
        out += sseFrame('error', { type: 'error', error: { type: anthropicErrorType(500), message: c.error.message ?? 'upstream error' } });
        this.failed = true;
        break;
      }
      out += this.start(c.id);
      if (c.usage) this.usage = anthropicUsageFromOpenai(c.usage);
      const choice = c.choices?.[0];
      const d = choice?.delta;
      if (d?.content) {
        if (this.open !== 'text') out += this.openBlock('text', { type: 'text', text: '' });
        out += sseFrame('content_block_delta', { type: 'content_block_delta', index: this.index, delta: { type: 'text_delta', text: d.content } });
      }
      for (const tc of d?.tool_calls ?? []) {
        const k = this.toolKey(tc);
        if (!this.toolBlocks.has(k)) {
          out += this.openBlock('tool', { type: 'tool_use', id: tc.id ?? `toolu_${randomUUID().replace(/-/g, '').slice(0, 24)}`, name: tc.function?.name ?? '', input: {} });
          this.toolBlocks.set(k, this.index);
        }
        if (tc.function?.arguments) {
          out += sseFrame('content_block_delta', { type: 'content_block_delta', index: this.toolBlocks.get(k), delta: { type: 'input_json_delta', partial_json: tc.function.arguments } });
        }
      }
      if (choice?.finish_reason) this.stop = stopReasonFromOpenai(choice.finish_reason);
    }
    return out;
  }

  /**
   * Which tool call a piece belongs to: its `index`; without one (Gemini's OpenAI endpoint sends
   * each call whole, with an id and no index) its `id`; with neither, the call before it.
   */
  private toolKey(tc: { index?: number; id?: string }): string {
    const k = typeof tc.index === 'number' ? `i${tc.index}` : tc.id ? `id${tc.id}` : (this.lastToolKey ?? 'i0');
    this.lastToolKey = k;
    return k;
  }

  private start(id: string | undefined): string {
    if (this.started) return '';
    this.started = true;
    return sseFrame('message_start', {
      type: 'message_start',
      message: { id: `msg_${(id ?? randomUUID()).replace(/^chatcmpl-/, '')}`, type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
    });
  }

  private openBlock(kind: 'text' | 'tool', block: Record<string, unknown>): string {
    let out = this.closeBlock();
    this.index++;
    this.open = kind;
    out += sseFrame('content_block_start', { type: 'content_block_start', index: this.index, content_block: block });
    return out;
  }

  private closeBlock(): string {
    if (this.open === undefined) return '';
    this.open = undefined;
    return sseFrame('content_block_stop', { type: 'content_block_stop', index: this.index });
  }

  private finish(): string {
    let out = this.start(undefined);
    out += this.closeBlock();
    // an answer with tool calls asks for them, whatever reason the provider gave (Gemini: "stop")
    const stop = this.toolBlocks.size && this.stop === 'end_turn' ? 'tool_use' : this.stop;
    out += sseFrame('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: this.usage });
    out += sseFrame('message_stop', { type: 'message_stop' });
    this.complete = true;
    return out;
  }
}
