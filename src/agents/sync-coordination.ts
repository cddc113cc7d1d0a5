import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../core/atomic-file.js';
import { withCoordination } from './coordination.js';
import { defaultAgentsDir } from './catalog.js';
import { parseAgentFile } from './parse.js';

/**
 * Rewrites the generated coordination section of every `agents/*.md` file from its front
 * matter (see coordination.ts). Returns the files whose text changed (with `write: false`:
 * that would change), so a test can assert that the committed files are in sync.
 */
export function syncCoordination(dir = defaultAgentsDir(), opts: { write?: boolean } = {}): { changed: string[]; invalid: string[] } {
  const root = resolve(dir);
  const changed: string[] = [];
  const invalid: string[] = [];
  for (const name of readdirSync(root).filter((n) => n.endsWith('.md') && n !== 'README.md').sort()) {
    const file = join(root, name);
    const text = readFileSync(file, 'utf8');
    const parsed = parseAgentFile(text, name);
    if (!parsed.ok) {
      invalid.push(...parsed.issues.map((i) => `${i.file}: ${i.field}: ${i.message}`));
      continue;
    }
    const next = withCoordination(text, parsed.agent);
    if (next !== text) {
      changed.push(name);
      if (opts.write !== false) writeFileAtomic(file, next, 0o644);
    }
  }
  return { changed, invalid };
}

// `npx tsx src/agents/sync-coordination.ts [dir]`
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { changed, invalid } = syncCoordination(process.argv[2]);
  for (const l of invalid) process.stderr.write(`invalid: ${l}\n`);
  process.stdout.write(`${changed.length} file(s) updated${changed.length ? `: ${changed.join(', ')}` : ''}\n`);
  process.exitCode = invalid.length > 0 ? 1 : 0;
}
