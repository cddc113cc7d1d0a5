import { CompiledQuery } from 'kysely';

const MARK = '\u0000cco-param:';

/**
 * A query compiled once and bound to new values per call, still executed through Kysely
 * (`db.executeQuery`). Building and compiling a Kysely query costs more CPU than running a small
 * indexed SQLite statement, and the hot sidecar routes repeat the same few statements.
 *
 * `build` receives a placeholder per named value and returns the query built with them; the
 * placeholders' positions in the compiled parameters tell where each value goes. Constants
 * given to the builder as plain values stay as they are.
 */
export function preparedQuery<K extends string>(names: readonly K[], build: (p: Record<K, string>) => { compile(): CompiledQuery }): PreparedQuery<K> {
  const placeholders = Object.fromEntries(names.map((n) => [n, `${MARK}${n}`])) as Record<K, string>;
  const compiled = build(placeholders).compile();
  const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? (p.slice(MARK.length) as K) : undefined));
  const constants = compiled.parameters;
  for (const n of names) if (!slots.includes(n)) throw new Error(`preparedQuery: value ${n} is not a parameter of ${compiled.sql}`);
  const bind = (values: Record<K, unknown>): CompiledQuery =>
    CompiledQuery.raw(
      compiled.sql,
      slots.map((n, i) => (n === undefined ? constants[i] : values[n])),
    );
  return Object.assign(bind, { slot: (name: K) => slots.indexOf(name) });
}

/** A prepared query: bind values to get the compiled query; `slot(name)` is that value's parameter index. */
export type PreparedQuery<K extends string> = ((values: Record<K, unknown>) => CompiledQuery) & { slot(name: K): number };
