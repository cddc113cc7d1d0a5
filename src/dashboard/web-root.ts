import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the built SPA lives. `dist/dashboard/module.js` and `src/dashboard/module.ts` are both
 * two levels below the package root, whose `web/dist` `npm run build:web` fills.
 */
export function resolveWebRoot(configured: string): string {
  if (configured) return resolve(configured);
  return join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'web', 'dist');
}

/** True when the SPA has been built (index.html exists). */
export function isWebBuilt(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}
