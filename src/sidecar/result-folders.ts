import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentTypeSchema, issueIdSchema } from './ids.js';

/** A result file found on disk: `<root>/<issue>/<agent-type>.json`. */
export interface OnDisk {
  file: string;
  issueId: string;
  agentType: string;
}

export const resultKey = (issueId: string, agentType: string): string => `${issueId}\u0000${agentType}`;

/**
 * The result files under a results folder: folders named as issues holding files named as agent
 * types (so `.journal`, `.repairs` and the `.<name>.spare` inodes are left out).
 */
function resultFilesIn(root: string): OnDisk[] {
  const out: OnDisk[] = [];
  for (const issueId of namesIn(root, true)) {
    if (!issueIdSchema.safeParse(issueId).success) continue;
    for (const name of namesIn(join(root, issueId), false)) {
      const agentType = name.endsWith('.json') ? name.slice(0, -5) : '';
      if (agentTypeSchema.safeParse(agentType).success) out.push({ file: join(root, issueId, name), issueId, agentType });
    }
  }
  return out;
}

/**
 * How many issue folders a results folder holds: its top level only, one read of its entries (0
 * when it cannot be read). Results are never deleted, so the count only grows.
 */
function issueFolderCount(root: string): number {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) if (e.isDirectory() && issueIdSchema.safeParse(e.name).success) n++;
  return n;
}

/** How a start looks at the results folder (tests observe what it lists). */
export interface ResultFolderLister {
  /** How many issue folders the folder holds (its top level only). */
  issueFolderCount(root: string): number;
  /** Every result file under the folder (every issue folder listed). */
  resultFiles(root: string): OnDisk[];
}

export const resultFolderLister: ResultFolderLister = { issueFolderCount, resultFiles: resultFilesIn };

/** The names of a folder's subfolders (`dirs`) or plain files; none when it cannot be read. */
function namesIn(dir: string, dirs: boolean): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => (dirs ? e.isDirectory() : e.isFile()))
      .map((e) => e.name);
  } catch {
    return [];
  }
}


/** The file that asks a start to compare every result file under `root` with the store's rows. */
export const reindexMarkerIn = (root: string): string => join(root, '.reindexing');

/**
 * Asks the next start to compare every result file under `root` with the store's rows and index
 * those that have none (`cco run|daemon start|daemon restart --reindex-results`): for a store
 * restored from an older backup that the start's cheap check does not see (see `reindexNeeded`).
 */
export function requestResultsReindex(root: string): string {
  mkdirSync(root, { recursive: true });
  const marker = reindexMarkerIn(root);
  writeFileSync(marker, `asked ${new Date().toISOString()}\n`, { mode: 0o600 });
  return marker;
}

/** How many issue folders the last full comparison of files and rows saw (`ResultsRepo.recover`). */
export const comparedStampIn = (root: string): string => join(root, '.compared');
