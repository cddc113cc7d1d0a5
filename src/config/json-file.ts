import { readFileSync } from 'node:fs';
import { ConfigError, lineColumnAt } from './config-error.js';

/**
 * Parses a JSON config file and, when it is malformed, says where and why in words a person
 * can act on: the seeds' three usual suspects are trailing commas, single quotes and missing
 * colons.
 */
export function parseJsonConfig(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    let offset = pos ? Number(pos[1]) : -1;
    let where: { line: number; column: number } | undefined;
    if (lc) where = { line: Number(lc[1]), column: Number(lc[2]) };
    else if (offset >= 0) where = lineColumnAt(text, offset);
    if (offset < 0 && where) offset = offsetOf(text, where.line, where.column);
    const cause = likelyCause(text, offset);
    const at = where ? `:${where.line}:${where.column}` : '';
    throw new ConfigError(
      `Unable to parse configuration file ${file}${at}: ${cause}`,
      file,
      where ? { line: where.line, column: where.column } : {},
    );
  }
}

export function readJsonConfig(file: string): unknown {
  return parseJsonConfig(readFileSync(file, 'utf8'), file);
}

function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split('\n');
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += (lines[i]?.length ?? 0) + 1;
  return off + column - 1;
}

function likelyCause(text: string, offset: number): string {
  const at = offset >= 0 ? text.slice(offset) : '';
  const before = offset >= 0 ? text.slice(0, offset).trimEnd() : '';
  if (/^\s*[}\]]/.test(at) && before.endsWith(',')) {
    return 'trailing comma before a closing bracket (not allowed in JSON) — remove the last comma';
  }
  if (/^\s*'/.test(at)) return "single quotes (JSON needs double quotes) — replace ' with \"";
  if (/^\s*"[^"]*"\s*$/m.test(at.split('\n')[0] ?? '') || /^"[^"]*"\s+[^:\s]/.test(at.trimStart())) {
    return 'missing colon between a key and its value — write "key": value';
  }
  if (/^\s*"/.test(at) && /"\s*$/.test(before)) return 'missing colon between a key and its value — write "key": value';
  if (/^\s*"/.test(at) && /[}\]"\d el]\s*$/.test(before)) return 'missing comma between two entries';
  if (at.trim() === '') return 'unexpected end of file — a bracket or brace is not closed';
  return 'invalid JSON syntax — check with `jq . FILE` (common causes: trailing commas, single quotes, missing colons)';
}
