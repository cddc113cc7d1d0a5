import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import ignore from 'ignore';
import type { Ignore } from 'ignore';

export interface ProjectFile {
  /** POSIX path relative to the root. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface ProjectScan {
  root: string;
  files: ProjectFile[];
  /** Directories walked (relative; '' is the root), for the change watcher. */
  dirs: string[];
  totalBytes: number;
  truncated: boolean;
  metadata: ProjectMetadata;
}

export interface ProjectMetadata {
  name: string | null;
  version: string | null;
  description: string | null;
  manifests: string[];
  languages: { extension: string; files: number }[];
}

/** Never part of the structure, whatever .gitignore says. */
const ALWAYS_IGNORED = new Set(['.git', 'node_modules', '.hg', '.svn']);

interface Layer {
  base: string; // relative dir of the .gitignore ('' = root)
  ig: Ignore;
}

/**
 * Walks a project like git sees it: every `.gitignore` on the way applies to its own folder and
 * below. Symlinks are not followed (they could leave the root). Stops at `maxFiles`.
 */
export async function scanProject(root: string, opts: { maxFiles?: number; onDir?: (absDir: string) => void; skipDirs?: readonly string[] } = {}): Promise<ProjectScan> {
  // CCO's own folders (its home with the keys, the runtime dir with the access token, its
  // config) never go into an agent's context, when a project happens to contain them
  const skip = new Set((opts.skipDirs ?? []).map((d) => resolve(d)));
  const maxFiles = opts.maxFiles ?? 20_000;
  const files: ProjectFile[] = [];
  const dirs: string[] = [];
  let truncated = false;
  let totalBytes = 0;

  const walk = async (rel: string, layers: Layer[]): Promise<void> => {
    if (files.length >= maxFiles) {
      truncated = true;
      return;
    }
    dirs.push(rel);
    const abs = rel ? join(root, rel) : root;
    // before reading: a change from here on is seen by whoever watches (see ProjectSnapshots)
    opts.onDir?.(abs);
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch {
      return;
    }
    let here = layers;
    if (entries.some((e) => e.name === '.gitignore' && e.isFile())) {
      try {
        here = [...layers, { base: rel, ig: ignore().add(await readFile(join(abs, '.gitignore'), 'utf8')) }];
      } catch {
        // unreadable .gitignore: walk as if absent
      }
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (ALWAYS_IGNORED.has(e.name)) continue;
      const path = rel ? `${rel}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      if (!isDir && !e.isFile()) continue;
      if (isIgnored(here, path, isDir)) continue;
      if (isDir && skip.size > 0 && skip.has(resolve(abs, e.name))) continue;
      if (isDir) {
        await walk(path, here);
      } else {
        if (files.length >= maxFiles) {
          truncated = true;
          return;
        }
        try {
          const s = await stat(join(root, path));
          files.push({ path, size: s.size, mtimeMs: s.mtimeMs });
          totalBytes += s.size;
        } catch {
          // vanished while walking
        }
      }
    }
  };
  await walk('', []);
  return { root, files, dirs, totalBytes, truncated, metadata: await metadataOf(root, files) };
}

/**
 * As git decides: the deepest `.gitignore` with a pattern that matches has the last word, so a
 * folder's `!pattern` re-includes what a parent's pattern ignored (a file inside an ignored
 * folder is never reached: the walk does not enter it).
 */
function isIgnored(layers: Layer[], path: string, isDir: boolean): boolean {
  let ignored = false;
  for (const l of layers) {
    const sub = l.base ? path.slice(l.base.length + 1) : path;
    const t = l.ig.test(isDir ? `${sub}/` : sub);
    if (t.ignored) ignored = true;
    else if (t.unignored) ignored = false;
  }
  return ignored;
}

async function metadataOf(root: string, files: ProjectFile[]): Promise<ProjectMetadata> {
  const manifests = files.map((f) => f.path).filter((p) => /^(package\.json|Cargo\.toml|pyproject\.toml|go\.mod|pom\.xml|build\.gradle(\.kts)?|Gemfile|composer\.json|setup\.py|requirements\.txt)$/.test(p));
  let name: string | null = null;
  let version: string | null = null;
  let description: string | null = null;
  try {
    if (manifests.includes('package.json')) {
      const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
      name = typeof pkg.name === 'string' ? pkg.name : null;
      version = typeof pkg.version === 'string' ? pkg.version : null;
      description = typeof pkg.description === 'string' ? pkg.description : null;
    } else {
      const m = manifests.find((p) => p === 'Cargo.toml' || p === 'pyproject.toml');
      if (m) {
        const text = await readFile(join(root, m), 'utf8');
        name = /^name\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? null;
        version = /^version\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? null;
        description = /^description\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? null;
      }
    }
  } catch {
    // a broken manifest is not the agent's problem
  }
  const byExt = new Map<string, number>();
  for (const f of files) {
    const ext = extname(f.path).toLowerCase();
    if (ext) byExt.set(ext, (byExt.get(ext) ?? 0) + 1);
  }
  const languages = [...byExt.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([extension, n]) => ({ extension, files: n }));
  return { name, version, description, manifests, languages };
}
