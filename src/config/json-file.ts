import { readFileSync } from 'node:fs';
import { ConfigError, lineColumnAt } from './config-error.js';
import { locateJsonError } from './json-locate.js';
import type { JsonFault } from './json-locate.js';

/**
 * Parses a JSON config file and, when it is malformed, says where (file:line:column) and why
 * in words a person can act on: the seeds' usual suspects are trailing commas, single quotes
 * and missing colons.
 */
export function parseJsonConfig(text: string, file: string): unknown {
  // a byte order mark (some Windows editors write one) is not part of the JSON
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const f = locateJsonError(text);
    if (!f) throw new ConfigError(`Unable to parse configuration file ${file}: ${(e as Error).message}`, file);
    throw faultError(text, file, f);
  }
  // JSON.parse keeps the last of two equal keys without a word: the first "routes" was lost silently
  const dup = locateJsonError(text, { duplicateKeys: true });
  if (dup?.duplicateKey !== undefined) throw faultError(text, file, dup);
  return value;
}

function faultError(text: string, file: string, f: JsonFault): ConfigError {
  const { line, column } = lineColumnAt(text, f.offset);
  return new ConfigError(`Unable to parse configuration file ${file}:${line}:${column}: ${f.cause}`, file, { line, column, ...(f.duplicateKey !== undefined ? { key: f.duplicateKey } : {}) });
}

export function readJsonConfig(file: string): unknown {
  return parseJsonConfig(readFileSync(file, 'utf8'), file);
}
