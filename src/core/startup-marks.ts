/**
 * Milliseconds since process start at named points of daemon startup, logged at debug level
 * ("startup phases") so a slow start can be attributed without a profiler.
 */
const marks: Record<string, number> = {};

export function mark(name: string): void {
  marks[name] = Math.round(performance.now());
}

export function startupMarks(): Record<string, number> {
  return { ...marks };
}
