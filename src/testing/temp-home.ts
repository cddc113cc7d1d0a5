import { afterAll, beforeAll, vi } from 'vitest';
import { tempCcoEnv } from './temp-dirs.js';

/**
 * Inside a `describe`: the process's environment points at a throwaway CCO home (home, config,
 * tmp and runtime dirs; CCO_PORT unset) for its tests, for code that reads `process.env` itself
 * (the CLI's commands), and is restored after them.
 */
export function useTempCcoHome(): ReturnType<typeof tempCcoEnv> {
  const home = tempCcoEnv();
  beforeAll(() => {
    for (const [k, v] of Object.entries(home.env)) vi.stubEnv(k, v);
    vi.stubEnv('CCO_PORT', undefined);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    home.cleanup();
  });
  return home;
}
