import { randomUUID } from 'node:crypto';
import { newToolUseId, signatureOf, toolUseIdWith } from './ids.js';
import { anthropicTypeOfOpenaiError, anthropicUsageFromOpenai, matchedStopSequence, stopReasonFromOpenai } from './anthropic-to-openai.js';
import { parseJson, SseSplitter, sseFrame } from './sse.js';
import type { StreamTranslator } from './types.js';

interface ToolPiece {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
  /** Gemini 3: `{google: {thought_signature}}` (ids.ts). */
  extra_content?: unknown;
}
interface ChunkDelta {
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ToolPiece[];
}
interface Chunk {
  id?: string;
  choices?: { delta?: ChunkDelta; finish_reason?: string | null; stop_reason?: unknown }[];
  usage?: unknown;
  error?: { message?: string; type?: unknown; code?: unknown } | string;
  message?: string;
}

/** One tool call of the answer, as its pieces arrive. */
interface ToolCall {
  id: string;
  /** The provider's signature of the call (Gemini 3), carried in its tool_use id. */
  signature?: string;
  /** Whether the provider named it (an id it gave) rather than us. */
  named: boolean;
  name: string;
  args: string;
  /** Its content block's index, once opened. */
  block?: number;
  closed: boolean;
}

const whole = (json: string): boolean => json !== '' && parseJson(json) !== undefined;

/**
 * OpenAI chat.completion.chunk stream → Anthropic Messages SSE (message_start, one content block
 * per text run or tool call, message_delta with stop reason and usage, message_stop), emitted as
 * the upstream chunks arrive.
 *
 * Anthropic blocks come one after another: a block is stopped before the next starts, and a
 * client may read a tool call's input when its block stops. OpenAI-format providers may
 * interleave calls (start two, then send both's arguments), so a call that starts while another
 * is still open waits, its pieces kept, until the open call's arguments are whole JSON (or the
 * answer ends); then it is opened and caught up.
 */
export class OpenaiToAnthropicStream implements StreamTranslator {
  complete = false;
  /** The upstream sent an error event: the stream ends there (never complete). */
  private failed = false;
  private readonly sse = new SseSplitter();
  private started = false;
  private index = -1;
  private open: 'text' | ToolCall | undefined;
  /** Tool calls in the order they started. */
  private readonly calls: ToolCall[] = [];
  /** Which call a piece's `index` or `id` names (see `callOf`). */
  private readonly byKey = new Map<string, ToolCall>();
  private last: ToolCall | undefined;
  private stop = 'end_turn';
  private stopSequence: string | null = null;
  private refused = false;
  private wrote = false;
  /** A signature that came alone, before the call it signs. */
  private pendingSignature: string | undefined;
  /** Text that came while a call's arguments were incomplete (see `push`). */
  private heldText = '';
  private usage: Record<string, unknown> = { input_tokens: 0, output_tokens: 0 };

  constructor(
    private readonly model: string,
    private readonly request: Record<string, unknown> = {},
  ) {}

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
        const err = typeof c.error === 'string' ? { message: c.error } : c.error;
        out += sseFrame('error', { type: 'error', error: { type: anthropicTypeOfOpenaiError(500, err.type, err.code), message: err.message ?? c.message ?? 'upstream error' } });
        this.failed = true;
        break;
      }
      out += this.start(c.id);
      if (c.usage) this.usage = anthropicUsageFromOpenai(c.usage);
      const choice = c.choices?.[0];
      const d = choice?.delta;
      const text = d?.content || d?.refusal;
      if (text) {
        if (d?.refusal && !d.content) this.refused = true;
        else this.wrote = true;
        // Text while a call's arguments are still coming waits for them: a text block would close
        // the call's block, and the rest of its arguments would come after its stop (a client
        // reading the input at the stop, as Claude Code does, got half a JSON object).
        if (typeof this.open === 'object' && !whole(this.open.args)) this.heldText += text;
        else out += this.text(text);
      }
      for (const piece of d?.tool_calls ?? []) out += this.toolPiece(piece);
      if (choice?.finish_reason) {
        this.stop = stopReasonFromOpenai(choice.finish_reason);
        this.stopSequence = matchedStopSequence(choice, this.request);
      }
    }
    return out;
  }

  /**
   * Which call a piece belongs to: its `index`, unless it brings an id other than the call at
   * that index has (Ollama and Grok send each call of a parallel batch whole, all at index 0);
   * without an index (Gemini) its `id`; with neither, the call before it.
   */
  private callOf(p: ToolPiece): ToolCall {
    // an empty id (Gemini behind some proxies) is no id
    const id = p.id || undefined;
    const key = typeof p.index === 'number' ? `i${p.index}` : id ? `id${id}` : undefined;
    let call = key ? this.byKey.get(key) : this.last;
    // A piece naming a function, with arguments of its own, after a call whose arguments are
    // whole JSON already, starts the next call (providers that send each call of a batch whole at
    // one index and without ids): joined, the two arguments made `{"x":1}{"y":2}`.
    const next = call !== undefined && !!p.function?.name && !!p.function.arguments && call.name !== '' && whole(call.args);
    if (!call || (id && call.named && call.id !== id) || next) {
      call = { id: id ?? newToolUseId(), named: id !== undefined, name: p.function?.name ?? '', args: '', closed: false };
      this.calls.push(call);
    }
    if (key) this.byKey.set(key, call);
    this.last = call;
    return call;
  }

  private toolPiece(p: ToolPiece): string {
    // a piece with nothing of a call (Gemini's signature sent ahead of its call, alone) is no call of its own
    if (p.id === undefined && p.index === undefined && !p.function?.name && !p.function?.arguments) {
      const sig = signatureOf(p);
      if (sig) this.pendingSignature = sig;
      return '';
    }
    const call = this.callOf(p);
    const sig = signatureOf(p) ?? this.pendingSignature;
    this.pendingSignature = undefined;
    if (sig && call.block === undefined) call.signature = sig;
    if (call.block === undefined && !call.name && p.function?.name) call.name = p.function.name;
    const args = p.function?.arguments ?? '';
    call.args += args;
    // not open yet: opened (in order) unless another call is open and unfinished
    if (call.block === undefined) return this.advance(false);
    // a piece for a call already stopped (a provider that added to whole JSON) still goes out:
    // dropping it would lose input for sure
    return args ? this.argsDelta(call, args) : '';
  }

  /** Opens the calls that waited, in order, while the open one is finished (or all of them at the end). */
  private advance(ending: boolean): string {
    let out = '';
    for (;;) {
      const next = this.calls.find((c) => c.block === undefined);
      if (!next) return out;
      if (typeof this.open === 'object' && !ending && !whole(this.open.args)) return out;
      out += this.openCall(next);
    }
  }

  private openCall(call: ToolCall): string {
    let out = this.openBlock(call, { type: 'tool_use', id: toolUseIdWith(call.id, call.signature), name: call.name, input: {} });
    call.block = this.index;
    if (call.args) out += this.argsDelta(call, call.args);
    return out;
  }

  private argsDelta(call: ToolCall, json: string): string {
    return sseFrame('content_block_delta', { type: 'content_block_delta', index: call.block, delta: { type: 'input_json_delta', partial_json: json } });
  }

  private start(id: string | undefined): string {
    if (this.started) return '';
    this.started = true;
    return sseFrame('message_start', {
      type: 'message_start',
      message: { id: `msg_${(id ?? randomUUID()).replace(/^chatcmpl-/, '')}`, type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
    });
  }

  private openBlock(kind: 'text' | ToolCall, block: Record<string, unknown>): string {
    let out = this.closeBlock();
    this.index++;
    this.open = kind;
    out += sseFrame('content_block_start', { type: 'content_block_start', index: this.index, content_block: block });
    return out;
  }

  private closeBlock(): string {
    if (this.open === undefined) return '';
    if (typeof this.open === 'object') this.open.closed = true;
    this.open = undefined;
    return sseFrame('content_block_stop', { type: 'content_block_stop', index: this.index });
  }

  /** A text delta (with any text held back before it), in a text block. */
  private text(text: string): string {
    let out = '';
    if (this.open !== 'text') out += this.openBlock('text', { type: 'text', text: '' });
    out += sseFrame('content_block_delta', { type: 'content_block_delta', index: this.index, delta: { type: 'text_delta', text: this.heldText + text } });
    this.heldText = '';
    return out;
  }

  private finish(): string {
    let out = this.start(undefined);
    out += this.advance(true);
    if (this.heldText) out += this.text('');
    out += this.closeBlock();
    // an answer with tool calls asks for them, whatever reason the provider gave (Gemini: "stop");
    // an answer that is only a refusal says so
    const stop = this.stopSequence ? 'stop_sequence' : this.calls.length && this.stop === 'end_turn' ? 'tool_use' : this.refused && !this.wrote && this.stop === 'end_turn' ? 'refusal' : this.stop;
    out += sseFrame('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: this.stopSequence }, usage: this.usage });
    out += sseFrame('message_stop', { type: 'message_stop' });
    this.complete = true;
    return out;
  }
}

