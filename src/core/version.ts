import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The package root (where package.json, agents/ and web/dist live), from src/ or dist/. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: string | undefined;
export function version(): string {
  if (!cached) {
    try {
      cached = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}

let build: string | null | undefined;
/**
 * Which build this is: a digest of the bundle, written beside it by `scripts/bundle.mjs`
 * (`dist/cco/build-id`); null when running unbundled (tests, `tsx`). Every build is version
 * 0.1.0 until a release; this tells a daemon started before an upgrade from the code installed now.
 */
export function buildId(): string | null {
  if (build === undefined) {
    try {
      build = readFileSync(join(PACKAGE_ROOT, 'dist', 'cco', 'build-id'), 'utf8').trim() || null;
    } catch {
      build = null;
    }
  }
  return build;
}

/**
 * The `cco` entry that is running (bundled `dist/cco/main.js` or `dist/cli/main.js`), for the
 * hook command form and detached daemon starts; falls back to the compiled entry when this
 * code runs inside another program (tests).
 */
export function cliEntry(): string {
  const argv1 = process.argv[1];
  if (argv1 && /[\\/](cco|cli)[\\/]main\.js$/.test(argv1)) return argv1;
  return join(PACKAGE_ROOT, 'dist', 'cco', 'main.js');
}
