/** A bounded ring of recent structured log records, for `/api/logs` and the live console. */
export interface LogRecord {
  time: number;
  level: string;
  msg: string;
  module?: string;
  [key: string]: unknown;
}

export type LogListener = (rec: LogRecord) => void;

export class LogBuffer {
  private readonly items: LogRecord[] = [];
  private readonly listeners = new Set<LogListener>();

  constructor(private readonly capacity = 2000) {}

  push(rec: LogRecord): void {
    this.items.push(rec);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
    for (const l of this.listeners) l(rec);
  }

  recent(limit = 200, minLevel?: string): LogRecord[] {
    const min = minLevel ? levelValue(minLevel) : 0;
    const filtered = min ? this.items.filter((r) => levelValue(r.level) >= min) : this.items;
    return filtered.slice(-limit);
  }

  subscribe(l: LogListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
export function levelValue(level: string): number {
  return LEVELS[level] ?? 30;
}
export function levelName(value: number): string {
  return Object.entries(LEVELS).find(([, v]) => v === value)?.[0] ?? 'info';
}
