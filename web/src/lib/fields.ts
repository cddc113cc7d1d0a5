/**
 * Readers that tolerate the shapes different parts publish (`latency_ms` or `latencyMs`,
 * `cost_usd` or `cost`): the dashboard shows what is there instead of breaking on a rename.
 */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a dotted path (`a.b.c`). */
export function at(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const k of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** The first finite number among the paths. */
export function num(o: unknown, ...paths: string[]): number | undefined {
  for (const p of paths) {
    const v = at(o, p);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  return undefined;
}

/** The first non-empty string among the paths (numbers are stringified). */
export function str(o: unknown, ...paths: string[]): string | undefined {
  for (const p of paths) {
    const v = at(o, p);
    if (typeof v === 'string' && v) return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

export function bool(o: unknown, ...paths: string[]): boolean | undefined {
  for (const p of paths) {
    const v = at(o, p);
    if (typeof v === 'boolean') return v;
  }
  return undefined;
}

/** The first array among the paths. */
export function arr(o: unknown, ...paths: string[]): unknown[] | undefined {
  for (const p of paths) {
    const v = at(o, p);
    if (Array.isArray(v)) return v;
  }
  return undefined;
}
