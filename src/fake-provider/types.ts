/** What the fake provider answers with, in whichever protocol the request used. */
export interface FakeReply {
  text?: string;
  /** An Anthropic thinking block before the text (OpenAI: ignored). */
  thinking?: string;
  toolUse?: { name: string; input: Record<string, unknown>; id?: string }[];
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  usage?: Partial<FakeUsage>;
  /** Default: the request's model. */
  model?: string;
  /** Delay between SSE events (streaming) in ms. */
  chunkDelayMs?: number;
  /** Delay before the status line and first byte, in ms. */
  firstByteDelayMs?: number;
  /** Split text into deltas of this many characters when streaming (default 16). */
  chunkSize?: number;
  /** Streaming: the events gzip-compressed (`content-encoding: gzip`), each flushed as it is sent (a compressing proxy in between). */
  encoding?: 'gzip';
}

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export type FakeFault =
  /** An HTTP error in the protocol's error shape; `retryAfter` in seconds sets `retry-after`. */
  | { fault: 'status'; status: number; retryAfter?: number; body?: unknown }
  /**
   * Streaming: the connection is destroyed after N SSE events (no message_stop / [DONE]). Not
   * streaming: after the headers (a content-length the body never reaches) and part of the body.
   */
  | { fault: 'cut'; afterEvents: number; encoding?: 'gzip' }
  /** Never answers (timeouts, client aborts). */
  | { fault: 'hang' }
  /** This body as-is (not JSON, or JSON of the wrong shape), with status 200 and the protocol's content type unless given. */
  /** Any body, status and content type; `encoding: 'gzip'` sends it compressed (whatever the request accepted). */
  | { fault: 'garbage'; body: string; status?: number; contentType?: string; encoding?: 'gzip' };

export type FakeItem = FakeReply | FakeFault;

export function isFault(i: FakeItem): i is FakeFault {
  return typeof (i as FakeFault).fault === 'string';
}

export type FakeProtocol = 'anthropic' | 'openai';

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, when it was JSON. */
  body: unknown;
  raw: string;
  protocol: FakeProtocol | undefined;
  ts: number;
}

/** Decides the answer for a request (when the queue is empty). */
export type FakeResponder = (req: RecordedRequest) => FakeItem | Promise<FakeItem>;
