/**
 * How deeply a request's JSON may nest. Deeper values are refused before anything walks them:
 * `JSON.stringify` and every recursive walk overflow the stack around 5,000–10,000 levels (a
 * 20 KB body), and pretty-printing one grows with depth × size. Real documents (agent results,
 * hook payloads, tool schemas) stay far below.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` nests objects/arrays more than `max` levels deep (iterative: no recursion). */
export function nestsDeeperThan(value: unknown, max = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: object[] = [value];
  const depths: number[] = [1];
  while (stack.length) {
    const v = stack.pop() as object;
    const d = depths.pop() as number;
    if (d > max) return true;
    const items = Array.isArray(v) ? (v as unknown[]) : Object.values(v);
    for (const x of items) {
      if (x !== null && typeof x === 'object') {
        stack.push(x);
        depths.push(d + 1);
      }
    }
  }
  return false;
}
