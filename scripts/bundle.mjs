// Bundles the compiled CLI (dist/cli/main.js) into dist/cco/ with esbuild: one entry plus
// lazily loaded chunks per command. Loading a few large files instead of hundreds of small
// ones roughly halves the daemon's cold start and the launcher's overhead. Native addons and
// optional peers stay external. dist/cco sits two levels below the package root, like every
// other dist/<folder>/, so paths computed from import.meta.url keep working.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

// Build beside, then swap in, so a concurrent reader never sees a half-written folder for long.
const tmp = `dist/.cco-${process.pid}`;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'error',
  minify: true,
  legalComments: 'none',
  external: ['better-sqlite3', 'node-pty', 'pg-native', 'bufferutil', 'utf-8-validate', 'react-devtools-core'],
};
await build({
  ...common,
  entryPoints: ['dist/cli/main.js'],
  outdir: tmp,
  splitting: true,
  format: 'esm',
  // Bundled CommonJS dependencies call require(); give ESM chunks one.
  banner: { js: "import { createRequire as __ccoCreateRequire } from 'node:module'; const require = __ccoCreateRequire(import.meta.url);" },
});
// The daemon (`cco run`) again as one CommonJS file: Node 20 can code-cache a vm.Script but not
// an ES module, and the daemon's parse/compile time is half its cold start (src/cli/code-cache.ts).
await build({
  ...common,
  entryPoints: ['dist/cli/run.js'],
  outfile: `${tmp}/daemon.cjs`,
  format: 'cjs',
  // Paths are computed from import.meta.url; the file sits in dist/cco like the ESM chunks.
  define: { 'import.meta.url': '__ccoImportMetaUrl' },
  banner: { js: "const __ccoImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// Which build this is (src/core/version.ts buildId): a digest of what was bundled, so that a
// launcher can tell a daemon started from an earlier build (every build says version 0.1.0).
{
  const digest = createHash('sha256');
  for (const f of readdirSync(tmp).sort()) if (/\.(c?js)$/.test(f)) digest.update(readFileSync(`${tmp}/${f}`));
  writeFileSync(`${tmp}/build-id`, `${digest.digest('hex').slice(0, 12)}\n`);
}
const old = `dist/.cco-old-${process.pid}`;
try {
  renameSync('dist/cco', old);
} catch {
  // first build
}
renameSync(tmp, 'dist/cco');
rmSync(old, { recursive: true, force: true });
