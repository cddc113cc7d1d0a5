import { stat, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { writeFileAtomic } from '../../core/atomic-file.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { buildRouter, parseRouting, readRoutingFile, validateRouting } from './load.js';
import type { Router } from './router.js';
import type { RoutingFile } from './schema.js';

export interface RoutingStoreOptions {
  /** The user's routing file (may not exist yet: the shipped default is used). */
  file: string;
  env: Record<string, string | undefined>;
  /** The gateway's own URLs; routes pointing there are refused. */
  selfUrls: () => string[];
  logger: Logger;
  /** Poll interval of the hot reload (stat polling survives editors' rename-on-save). */
  watchIntervalMs?: number;
}

/**
 * The routing configuration in force, its source and version. Reloads when the file changes;
 * a bad file is refused (logged, kept as `lastError`) and the last good config stays in force.
 */
export class RoutingStore {
  private current!: Router;
  private source = '';
  private ver = 0;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** mtime and size of the file when it was last read ('missing' when absent). */
  private seen = '';
  private readonly listeners = new Set<(r: Router) => void>();

  constructor(private readonly opts: RoutingStoreOptions) {
    this.load();
  }

  get router(): Router {
    return this.current;
  }

  /** Monotonic version of the config in force (1 at start, +1 per successful reload/apply). */
  get version(): number {
    return this.ver;
  }

  status(): { file: string; source: string; version: number; lastError: string | null; routes: number } {
    return { file: this.opts.file, source: this.source, version: this.ver, lastError: this.lastError ?? null, routes: this.current.file.routes.length };
  }

  /** Loads the file now; throws the ConfigError (with file, line, column) if it is bad. */
  load(): Router {
    // Taken before reading: a write that lands after the read is seen by the next poll.
    this.seen = signature(statOrUndefined(this.opts.file));
    const { file, text } = readRoutingFile(this.opts.file);
    const parsed = parseRouting(text, file);
    this.install(buildRouter(parsed, this.opts.env, this.opts.selfUrls(), file), file);
    return this.current;
  }

  /** Reload that never throws: the last good config stays when the new one is bad. */
  reload(): { ok: boolean; error?: string } {
    try {
      this.load();
      this.lastError = undefined;
      this.opts.logger.info({ file: this.source, version: this.ver }, 'routing configuration reloaded');
      return { ok: true };
    } catch (e) {
      this.lastError = errorMessage(e);
      this.opts.logger.error({ err: this.lastError }, 'routing configuration refused; the previous one stays in force');
      return { ok: false, error: this.lastError };
    }
  }

  /**
   * Why the user's file may not be overwritten now: it holds an edit that is not in force (one
   * refused for an error, or one saved since the last poll). Writing the config in force over it
   * would lose that edit without a copy.
   */
  unloadedEdit(): string | undefined {
    if (signature(statOrUndefined(this.opts.file)) !== this.seen) return `${this.opts.file} was changed since it was loaded`;
    if (this.lastError) return `${this.opts.file} holds an edit that was refused (${this.lastError})`;
    return undefined;
  }

  /**
   * Validates and applies a new config (self-improvement); `persist` also writes the user's file,
   * and is refused (nothing applied) while the file holds an edit not in force (`unloadedEdit`).
   */
  apply(raw: unknown, opts: { persist?: boolean } = {}): { version: number } {
    const parsed = validateRouting(raw, '(applied config)');
    const router = buildRouter(parsed, this.opts.env, this.opts.selfUrls(), '(applied config)');
    const edited = opts.persist ? this.unloadedEdit() : undefined;
    if (edited) throw new Error(`${edited}: not overwritten, and the new config is not applied; fix or save the file first`);
    if (opts.persist) {
      writeFileAtomic(this.opts.file, `${JSON.stringify(raw, null, 2)}\n`, 0o644);
      this.seen = signature(statOrUndefined(this.opts.file));
    }
    this.install(router, opts.persist ? this.opts.file : '(applied config)');
    // the file's refusal stands until the file itself is written (an apply in force only leaves it)
    if (opts.persist) this.lastError = undefined;
    return { version: this.ver };
  }

  get config(): RoutingFile {
    return this.current.file;
  }

  /** Re-checks the loop rule once the real port is known (port 0 at start). */
  revalidate(): void {
    buildRouter(this.current.file, this.opts.env, this.opts.selfUrls(), this.source);
  }

  onChange(l: (r: Router) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Polls the file's mtime and size against those of the content in force. (fs.watchFile
   * compares each poll with the previous one from its own first stat, so a write between our
   * read and that first stat was never noticed.)
   */
  watch(): void {
    if (this.timer) return;
    let polling = false;
    let missingSince: number | undefined;
    this.timer = setInterval(() => {
      if (polling) return;
      polling = true;
      stat(this.opts.file, (err, st) => {
        polling = false;
        if (!this.timer) return;
        // The user's file gone for a moment (an editor saving by rename, a git checkout): the
        // shipped routes would take over meanwhile, and a local model's prompts could go to a
        // public API. Only a file still gone after MISSING_GRACE_MS gives way to them.
        if (err && this.source === this.opts.file) {
          missingSince ??= Date.now();
          if (Date.now() - missingSince < MISSING_GRACE_MS) return;
        }
        if (!err) missingSince = undefined;
        if (signature(err ? undefined : st) !== this.seen) this.reload();
      });
    }, this.opts.watchIntervalMs ?? 1000);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private install(router: Router, source: string): void {
    this.current = router;
    this.source = source;
    this.ver++;
    for (const l of this.listeners) l(router);
  }
}

/** How long the user's routing file may be missing before the shipped default replaces it. */
export const MISSING_GRACE_MS = 5000;

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

function signature(st: Stats | undefined): string {
  return st ? `${st.mtimeMs}:${st.size}` : 'missing';
}
