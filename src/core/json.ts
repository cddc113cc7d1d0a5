/** A JSON object (not null, not an array). */
export const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * How deeply a request's JSON may nest. Deeper values are refused before anything walks them:
 * `JSON.stringify` and every recursive walk overflow the stack around 5,000–10,000 levels (a
 * 20 KB body), and pretty-printing one grows with depth × size. Real documents (agent results,
 * hook payloads, tool schemas) stay far below.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Visits every object and array inside `value` with its items and depth (1 for `value` itself),
 * iteratively (no recursion, so any depth is safe); stops as soon as `visit` returns false.
 * Returns whether every container was visited.
 */
export function eachContainer(value: unknown, visit: (items: unknown[], depth: number) => boolean): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const items = Array.isArray(v) ? (v as unknown[]) : Object.values(v);
    if (!visit(items, depth)) return false;
    for (const x of items) if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
  }
  return true;
}

/** Whether `value` nests objects/arrays more than `max` levels deep. */
export function nestsDeeperThan(value: unknown, max = MAX_JSON_DEPTH): boolean {
  return !eachContainer(value, (_items, depth) => depth <= max);
}
