import type { z } from 'zod';

/**
 * A config section with the seeds' environment variables applied over it (`MONITORING_DURATION_SECONDS=7200`,
 * `LLM_MAX_TOKENS=2000`): `names` maps each variable to its key in the section. Values are numbers
 * unless `read` says otherwise. A malformed value is an error naming the variable and the way out,
 * never silently ignored.
 */
export function withEnvSettings<T>(
  schema: z.ZodType<T>,
  section: T,
  env: Record<string, string | undefined>,
  names: Record<string, string>,
  sectionName: string,
  read: (name: string, value: string, key: string) => unknown = envNumber,
): T {
  const raw: Record<string, unknown> = { ...(section as Record<string, unknown>) };
  for (const [name, key] of Object.entries(names)) {
    const v = env[name]?.trim();
    if (v === undefined || v === '') continue;
    raw[key] = read(name, v, key);
  }
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  const key = String(i?.path[0] ?? '');
  const envName = Object.entries(names).find(([, k]) => k === key)?.[0];
  throw new Error(envName ? `${envName}=${env[envName] ?? ''}: ${i?.message ?? 'invalid'}; change or unset ${envName}` : `${sectionName}.${key}: ${i?.message ?? 'invalid'}`);
}

/** A variable's value as a number, or an error naming it. */
export function envNumber(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}=${v} is not a number; change or unset ${name}`);
  return n;
}
