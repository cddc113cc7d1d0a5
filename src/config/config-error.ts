/**
 * A configuration file that cannot be used. The message names the file, and where we can
 * tell, the key, line and column, and the likely cause with its fix.
 */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(
    message: string,
    readonly file: string,
    readonly location: { key?: string; line?: number; column?: number } = {},
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** 1-based line and column of a character offset. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}
