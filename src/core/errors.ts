/**
 * One error type for everything that reaches a client. It carries an HTTP status, a stable
 * machine `code` (match on it, never on the message), an optional offending `field`, and a
 * human message that says what is wrong and, where we know it, how to fix it.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    opts: { field?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.field = opts.field;
    this.details = opts.details;
  }

  /** Our own API shape: `{error: {code, message, field}}`. */
  toJSON(): { error: { code: string; message: string; field?: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

export const badRequest = (message: string, field?: string): AppError =>
  new AppError(400, 'bad_request', message, field ? { field } : {});
export const notFound = (message: string): AppError => new AppError(404, 'not_found', message);
export const unauthorized = (message: string): AppError => new AppError(401, 'unauthorized', message);
export const forbidden = (message: string): AppError => new AppError(403, 'forbidden', message);
export const conflict = (message: string): AppError => new AppError(409, 'conflict', message);

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** The message of anything thrown, for logs and CLI output. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
