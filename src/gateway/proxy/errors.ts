/** The API shape a client speaks, decided by the endpoint it called. */
export type ClientFormat = 'anthropic' | 'openai';

/**
 * A failure reported to a gateway client in its own API shape. `status` is what the client
 * sees (the upstream's status when the upstream failed); `code` is stable for matching.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly opts: { retryAfterMs?: number; field?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'GatewayError';
  }
}

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** Anthropic's error `type` for an HTTP status. */
export function anthropicErrorType(status: number): string {
  return ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** OpenAI's error `type` for an HTTP status. */
export function openaiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** `{type:"error", error:{type, message}}` or `{error:{message, type, code, param}}`. */
export function errorBody(format: ClientFormat, status: number, message: string, code?: string, field?: string): Record<string, unknown> {
  if (format === 'anthropic') return { type: 'error', error: { type: anthropicErrorType(status), message } };
  return { error: { message, type: openaiErrorType(status), code: code ?? null, param: field ?? null } };
}

/** An error as one SSE event in the client's protocol (a stream that cannot finish). */
export function streamErrorEvent(format: ClientFormat, status: number, message: string, code?: string): string {
  const body = JSON.stringify(errorBody(format, status, message, code));
  return format === 'anthropic' ? `event: error\ndata: ${body}\n\n` : `data: ${body}\n\n`;
}

/** What a call still running when the gateway stops is answered (its grace over, or the last settle). */
export const shuttingDown = (): GatewayError => new GatewayError(503, 'shutting_down', 'The gateway is shutting down');
