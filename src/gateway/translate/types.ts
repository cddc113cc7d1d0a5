/** Turns an upstream SSE stream of one format into the client's format, chunk by chunk. */
export interface StreamTranslator {
  /** Upstream bytes in, client bytes out (possibly empty while an event is incomplete). */
  push(chunk: Buffer): string;
  /** The upstream ended its stream properly (message_stop / [DONE]). */
  readonly complete: boolean;
}

/**
 * A translation between the client's API format and a provider of the other format: request
 * body, complete response, error body and stream.
 */
export interface FormatBridge {
  /** The body sent upstream. */
  request(body: Record<string, unknown>, upstreamModel: string): Record<string, unknown>;
  /**
   * A complete upstream JSON answer as the client's format; `requestBody` is what the client sent.
   * Throws when the answer is not one (the client gets a 502 `upstream_invalid_answer`).
   */
  response(upstream: unknown, clientModel: string, requestBody: Record<string, unknown>): unknown;
  /** An upstream error body (text) as the client's format. */
  error(status: number, upstreamText: string): Record<string, unknown>;
  /** A translator for one streamed answer; `requestBody` is what the client sent. */
  stream(clientModel: string, requestBody: Record<string, unknown>): StreamTranslator;
}
