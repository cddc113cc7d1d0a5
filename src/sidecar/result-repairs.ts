import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';

/**
 * Result files that must still be made to follow their rows: a save whose row failed while its
 * file was written, when the store could not even be read to repair it (the database gone). A
 * marker per such save, durable before the caller hears of the failure, so that a repair still
 * happens after a restart, when the journal that held the file's write is long gone. The
 * results folder's `.repairs/`; one small JSON file per marker.
 */
export class PendingRepairs {
  constructor(private readonly dir: string) {}

  private markerOf(file: string, storedAt: number): string {
    return join(this.dir, `${createHash('sha256').update(file).digest('hex').slice(0, 24)}-${storedAt}.json`);
  }

  mark(file: string, storedAt: number): void {
    writeFileAtomic(this.markerOf(file, storedAt), JSON.stringify({ file, stored_at: storedAt }), 0o600);
  }

  clear(file: string, storedAt: number): void {
    try {
      unlinkSync(this.markerOf(file, storedAt));
    } catch {
      // already gone
    }
  }

  /** The files with a marker (each once), for a start's recovery. */
  files(): { file: string; storedAt: number }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: { file: string; storedAt: number }[] = [];
    for (const n of names) {
      try {
        const m = JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as { file?: unknown; stored_at?: unknown };
        if (typeof m.file === 'string' && typeof m.stored_at === 'number') out.push({ file: m.file, storedAt: m.stored_at });
      } catch {
        // not a marker of ours (markers are written whole, atomically)
      }
    }
    return out;
  }
}
