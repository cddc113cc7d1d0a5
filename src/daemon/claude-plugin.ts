import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file.js';
import type { AgentCatalog } from '../agents/types.js';

/**
 * The agent catalog as a Claude Code plugin folder (`.claude-plugin/plugin.json` + `agents/*.md`),
 * given to Claude Code with `--plugin-dir`, so its Task tool can spawn the catalog's agents
 * without CCO writing into the user's project or home. 119 prompts are far too large for the
 * `--agents` flag (one argument is capped at 128 KiB on Linux).
 *
 * The folder has a fixed name in the temp folder, often a shared 1777 /tmp: another user could
 * create it first and rewrite the prompts later. So it must be ours and open to nobody else
 * (checked with lstat, no symlink followed), or it is removed and made anew; and a stamp
 * (`.cco-hash`) records the catalog's digest and the files' digest, checked at every launch
 * (`claudePluginProblem`, from verify-artifacts.ts).
 *
 * Rewritten only when the catalog changed or the files are not what was written, because the
 * daemon does this on every start.
 */
export async function writeClaudePlugin(dir: string, catalog: AgentCatalog, version: string): Promise<{ written: boolean; agents: number }> {
  const agents = catalog.list();
  const manifest = JSON.stringify({ name: 'cco', version, description: 'CCO agent catalog: specialised agents that coordinate through the CCO sidecar and MCP tools' }, null, 2);
  // The digest covers the definitions themselves, so an unchanged catalog costs no rendering
  // (and does not load the YAML writer).
  const digest = createHash('sha256').update(manifest).update(JSON.stringify(agents)).digest('hex');
  claimPrivateDir(dir);
  if (readStamp(dir)?.catalog === digest && !claudePluginProblem(dir)) return { written: false, agents: agents.length };
  const { toClaudeCodeMarkdown } = await import('../agents/export.js');
  const files = new Map<string, string>([[MANIFEST, manifest]]);
  for (const a of agents) files.set(join('agents', `${a.name}.md`), toClaudeCodeMarkdown(a));

  // Each file is replaced whole, then whatever the catalog no longer has goes: a Claude Code
  // starting meanwhile (another daemon's session sharing this temp folder) reads each agent old
  // or new, never half written or missing. Nothing else of what was there is kept. (The folder
  // is ours and closed to others, so nobody else can slip a symlink in between.)
  for (const sub of ['.claude-plugin', 'agents']) {
    if (!isDir(join(dir, sub))) rmSync(join(dir, sub), { recursive: true, force: true });
    mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  }
  for (const [name, text] of files) {
    if (!isFile(join(dir, name))) rmSync(join(dir, name), { recursive: true, force: true });
    writeFileAtomic(join(dir, name), text, 0o600, { durable: false });
  }
  const keep = new Set([...files.keys(), '.claude-plugin', 'agents', HASH_FILE]);
  for (const sub of ['', '.claude-plugin', 'agents']) {
    for (const entry of readdirSync(join(dir, sub))) if (!keep.has(join(sub, entry))) rmSync(join(dir, sub, entry), { recursive: true, force: true });
  }
  const stamp: Stamp = { catalog: digest, files: filesDigest([...files].map(([name, text]) => [name, Buffer.from(text)])) };
  writeFileAtomic(join(dir, HASH_FILE), JSON.stringify(stamp), 0o600, { durable: false });
  return { written: true, agents: agents.length };
}

/**
 * What is wrong with the plugin folder, or undefined when it is exactly what the daemon wrote:
 * ours, not writable by group or others, no symlinks, no stray entries, files matching the stamp.
 */
export function claudePluginProblem(dir: string): { missing: boolean; problem: string } | undefined {
  const top = entryProblem(dir, 'dir');
  if (top) return { missing: top === MISSING, problem: top };
  const bad = (problem: string) => ({ missing: false, problem });
  const stray = readdirSync(dir).find((e) => !TOP_ENTRIES.has(e));
  if (stray !== undefined) return bad(`holds an unexpected entry ${stray}`);
  for (const sub of ['.claude-plugin', 'agents']) {
    const p = entryProblem(join(dir, sub), 'dir');
    if (p) return bad(`${sub} ${p}`);
  }
  const names = [MANIFEST, ...readdirSync(join(dir, 'agents')).map((f) => join('agents', f))];
  if (readdirSync(join(dir, '.claude-plugin')).length !== 1) return bad('.claude-plugin holds unexpected entries');
  for (const name of [HASH_FILE, ...names]) {
    const p = entryProblem(join(dir, name), 'file');
    if (p) return bad(`${name} ${p}`);
  }
  const stamp = readStamp(dir);
  if (!stamp || filesDigest(names.map((n) => [n, readFileSync(join(dir, n))])) !== stamp.files) return bad('holds agent files that differ from what the daemon wrote');
  return undefined;
}

const HASH_FILE = '.cco-hash';
const MANIFEST = join('.claude-plugin', 'plugin.json');
const TOP_ENTRIES = new Set([HASH_FILE, '.claude-plugin', 'agents']);
const MISSING = 'is missing';

interface Stamp {
  catalog: string;
  files: string;
}

const isDir = (p: string): boolean => lstatOrUndefined(p)?.isDirectory() === true;
const isFile = (p: string): boolean => lstatOrUndefined(p)?.isFile() === true;
function lstatOrUndefined(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function readStamp(dir: string): Stamp | undefined {
  try {
    const s = JSON.parse(readFileSync(join(dir, HASH_FILE), 'utf8')) as Partial<Stamp>;
    return typeof s.catalog === 'string' && typeof s.files === 'string' ? { catalog: s.catalog, files: s.files } : undefined;
  } catch {
    return undefined;
  }
}

/** One digest over names and contents, in name order. */
function filesDigest(files: [string, Buffer][]): string {
  const h = createHash('sha256');
  for (const [name, data] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) h.update(`${name}\0${data.length}\0`).update(data);
  return h.digest('hex');
}

/** Why `path` is not a private file/folder of ours (lstat: a symlink is itself the problem). */
function entryProblem(path: string, kind: 'dir' | 'file'): string | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return MISSING;
    return `cannot be checked (${(e as Error).message})`;
  }
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) return `is not a ${kind === 'dir' ? 'folder' : 'regular file'}`;
  const uid = process.geteuid?.();
  // (no owners or modes to check on Windows)
  if (uid !== undefined && st.uid !== uid) return `is owned by another user (uid ${st.uid})`;
  if (uid !== undefined && (st.mode & 0o022) !== 0) return `is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

/** Makes `dir` a folder of ours that nobody else can write, removing one that is not. */
function claimPrivateDir(dir: string): void {
  const problem = entryProblem(dir, 'dir');
  if (problem === undefined) return;
  const refuse = (why: string) =>
    new Error(`the agent plugin folder ${dir} ${why}: another user may have planted agent prompts there. Remove it, or set CCO_TMPDIR to a folder only you can write`);
  if (problem !== MISSING) {
    // Whatever is inside may have been planted: nothing of it is kept.
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      throw refuse(`${problem} and cannot be removed (${(e as Error).message})`);
    }
  }
  mkdirSync(dirname(dir), { recursive: true });
  try {
    // not recursive: EEXIST if someone created it in the meantime (checked below: another
    // daemon of ours sharing the temp folder may have)
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw refuse(`could not be created (${(e as Error).message})`);
  }
  const again = entryProblem(dir, 'dir');
  if (again) throw refuse(again);
}

export { claudePluginDir } from './launch-paths.js';
