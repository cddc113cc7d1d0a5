import { redactFileText } from './secret-files.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { queryTerms } from './knowledge.js';
import type { ProjectFile } from './project-scan.js';

const STOP = new Set(
  'the and for with that this from into are was were will would should could have has had not but you your our their its issue agent use using add make new fix get set all any can when then than also each per via only need needs'.split(' '),
);

/** Terms of an issue's text worth matching against files (lowercase, no stop words). */
export function relevanceTerms(text: string): string[] {
  return queryTerms(text, 32).filter((t) => t.length >= 3 && !STOP.has(t));
}

export interface RankedFile extends ProjectFile {
  score: number;
  /** Text content (undefined for binaries or unreadable files). */
  text?: string | undefined;
}

/** Reads a small text file once per snapshot; binaries (NUL in the first KiB) give null. */
export type ContentReader = (f: ProjectFile) => Promise<string | null>;

export interface ContentCache {
  files: Map<string, Promise<string | null>>;
  bytes: number;
}

/** Past this many bytes of cached text a snapshot reads files again instead of keeping them. */
const CACHE_BYTES = 64 * 1024 * 1024;

export function cachedReader(root: string, cache: ContentCache, maxBytes = 512 * 1024): ContentReader {
  return (f) => {
    let p = cache.files.get(f.path);
    if (!p) {
      p =
        f.size > maxBytes
          ? Promise.resolve(null)
          : readFile(join(root, f.path)).then((b) => {
              const text = decodeText(b);
              // credentials pasted into ordinary files are masked before anything reads them
              return text === null ? null : redactFileText(text);
            }, () => null);
      if (cache.bytes + f.size <= CACHE_BYTES) {
        cache.files.set(f.path, p);
        cache.bytes += f.size;
      }
    }
    return p;
  };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A file's text, or null for a binary file. UTF-8 when it is valid UTF-8; otherwise Latin-1 when
 * it reads as text (an old source file: "café" came out as "caf\uFFFD"), and binary when it has
 * control characters (a binary without a NUL in its first KiB came out as pages of U+FFFD, each
 * costing 3 bytes of the context's budget).
 */
export function decodeText(b: Buffer): string | null {
  if (b.subarray(0, 1024).includes(0)) return null;
  try {
    return UTF8.decode(b);
  } catch {
    for (const c of b.subarray(0, 8192)) if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) || (c >= 0x7f && c < 0xa0)) return null;
    return b.toString('latin1');
  }
}

function countOf(hay: string, needle: string, cap: number): number {
  let n = 0;
  let i = hay.indexOf(needle);
  while (i >= 0 && n < cap) {
    n++;
    i = hay.indexOf(needle, i + needle.length);
  }
  return n;
}

/**
 * Ranks candidate files by relevance to the terms: a term in the path weighs most, then
 * occurrences in the content (log-damped so one huge file does not win by volume); ties go to
 * the most recently changed file. At most `maxRead` files are read.
 */
export async function rankFiles(candidates: readonly ProjectFile[], terms: readonly string[], read: ContentReader, maxRead = 300, bonus?: (f: ProjectFile) => number): Promise<RankedFile[]> {
  const pre = candidates.map((f) => {
    const p = f.path.toLowerCase();
    let score = bonus ? bonus(f) : 0;
    for (const t of terms) if (p.includes(t)) score += 5;
    return { ...f, score };
  });
  pre.sort((a, b) => b.score - a.score || b.mtimeMs - a.mtimeMs);
  const head = pre.slice(0, maxRead);
  await Promise.all(
    head.map(async (f) => {
      const text = await read(f);
      if (text === null) {
        f.score = -1;
        return;
      }
      (f as RankedFile).text = text;
      if (terms.length === 0) return;
      const lower = text.toLowerCase();
      for (const t of terms) f.score += Math.log2(1 + countOf(lower, t, 64));
    }),
  );
  const ranked = head.filter((f) => f.score >= 0) as RankedFile[];
  ranked.sort((a, b) => b.score - a.score || b.mtimeMs - a.mtimeMs || a.path.localeCompare(b.path));
  return ranked;
}
