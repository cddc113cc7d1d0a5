/** What a file round commits: a file's new text (null removes the file). */
export interface FilePart {
  file: string;
  text: string | null;
  done(error: unknown): void;
}

/** One group-commit pipeline: parts that arrive while a round runs wait for the next round, in order. */
export class Rounds<P extends FilePart> {
  private queue: P[] = [];
  private running = false;

  constructor(
    private readonly round: (batch: P[]) => Promise<(unknown | undefined)[]>,
    private readonly max: number,
    /** Text bytes per round at most (at least one part a round). */
    private readonly maxBytes = Infinity,
  ) {}

  add(part: P): void {
    this.queue.push(part);
    if (this.running) return;
    this.running = true;
    // requests parsed in the same turn of the event loop join the first round
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length) {
        let n = 0;
        for (let bytes = 0; n < this.queue.length && n < this.max; n++) {
          bytes += (this.queue[n] as P).text?.length ?? 0;
          if (n > 0 && bytes > this.maxBytes) break;
        }
        const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n);
        this.queue = n === this.queue.length ? [] : this.queue.slice(n);
        let errors: (unknown | undefined)[];
        try {
          errors = await this.round(batch);
        } catch (e) {
          errors = batch.map(() => e);
        }
        batch.forEach((p, i) => p.done(errors[i]));
      }
    } finally {
      this.running = false;
    }
  }
}

/** The last part per file of a batch (an earlier one is replaced at once, as one after the other would be). */
export function lastPerFile<P extends FilePart>(batch: P[]): P[] {
  const last = new Map<string, P>();
  for (const p of batch) last.set(p.file, p);
  return [...last.values()];
}

