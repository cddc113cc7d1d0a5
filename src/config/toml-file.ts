import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError } from './config-error.js';

/** Parses TOML; a syntax error names the file, line and column. */
export function parseTomlConfig(text: string, file: string): unknown {
  try {
    return parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0] ?? e.message;
      throw new ConfigError(
        `Unable to parse configuration file ${file}:${e.line}:${e.column}: ${first}`,
        file,
        { line: e.line, column: e.column },
      );
    }
    throw e;
  }
}
