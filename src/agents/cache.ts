import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { AgentDefinition } from './types.js';

interface CacheFile {
  fingerprint: string;
  agents: AgentDefinition[];
}

function cacheFile(cacheDir: string, root: string): string {
  return join(cacheDir, `agent-catalog-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.json`);
}

/**
 * The parsed catalog saved by an earlier load of the same files, or undefined. Only a catalog
 * that validated is ever saved, so a hit needs no re-validation; anything unexpected is a miss.
 */
export function readCatalogCache(cacheDir: string, root: string, fingerprint: string): AgentDefinition[] | undefined {
  try {
    const c = JSON.parse(readFileSync(cacheFile(cacheDir, root), 'utf8')) as Partial<CacheFile>;
    if (c.fingerprint !== fingerprint || !Array.isArray(c.agents)) return undefined;
    return c.agents;
  } catch {
    return undefined;
  }
}

/** Saves a validated catalog; false when it cannot be written (that only costs speed). */
export function writeCatalogCache(cacheDir: string, root: string, fingerprint: string, agents: AgentDefinition[]): boolean {
  try {
    writeFileAtomic(cacheFile(cacheDir, root), JSON.stringify({ fingerprint, agents } satisfies CacheFile), 0o600, { durable: false });
    return true;
  } catch {
    // read-only install or full disk: the next load parses again
    return false;
  }
}
