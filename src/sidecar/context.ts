import { isSecretFile } from './secret-files.js';
import { isAbsolute, relative, sep } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { AgentDefinition } from '../agents/types.js';
import type { AgentsRepo } from './agents-repo.js';
import { globMatcher } from './glob.js';
import type { Knowledge, KnowledgeHit } from './knowledge.js';
import { cachedReader, rankFiles, relevanceTerms } from './relevance.js';
import type { RankedFile } from './relevance.js';
import type { ResultsRepo, StoredResult } from './results.js';
import type { ProjectSnapshots, Snapshot } from './snapshots.js';

export interface ContextRequest {
  root: string;
  issueId: string;
  agent: AgentDefinition;
  /** Extra issue text from the request (`?q=`). */
  q?: string | undefined;
  /** The asker's issue scope (for related knowledge from other issues). */
  issues: string[] | '*';
}

export interface ContextOptions {
  /** Byte budget of the whole response. */
  maxBytes: number;
  /** File-content budget when the agent's rules give none. */
  defaultFileBytes: number;
  /** How long related knowledge from other issues may be reused. */
  relatedTtlMs?: number;
}

interface Cached {
  /** The context as UTF-8 JSON, ready to send. */
  json: Buffer;
  gen: number;
  issueVersion: number;
  at: number;
  /** What it was built from that may change without an invalidation (see `Inputs`). */
  inputs: string;
}

/** What a context is built from, read afresh for every build. */
interface Inputs {
  snap: Snapshot;
  results: StoredResult[];
  tasks: string[];
  related: KnowledgeHit[];
}

/**
 * The parts of the inputs that change without invalidating the cache (cross-issue knowledge,
 * spawned agents' tasks, results stored through another daemon): equal fingerprints, equal
 * contexts but for their `generated_at`.
 */
function fingerprint(i: Inputs): string {
  // the snapshot's generation too: a project with more folders than watchers is rescanned when
  // its snapshot expires, and the rescan may find changes that no watcher reported
  return JSON.stringify([i.snap.gen, i.results.map((r) => [r.agent_type, r.agent_id, r.stored_at, r.bytes]), i.tasks, i.related]);
}

/** `generated_at` is the context's last field: `…,"generated_at":"<24-character ISO time>"}`. */
const STAMP_TAIL = 26;
const stampAt = (json: Buffer): number => (json.length > 42 && json.toString('latin1', json.length - 42, json.length - STAMP_TAIL) === '"generated_at":"' ? json.length - STAMP_TAIL : -1);

/**
 * Builds the context an agent asks for, and caches it. A cached context is served while the
 * project's files are unchanged (snapshot generation) and no result was stored for its issue
 * (issue version); cross-issue "related knowledge" may be up to `relatedTtlMs` old.
 */
export class ContextBuilder {
  // bounded by bytes too: 2000 contexts of 256 KiB would be half a gigabyte
  private readonly cache = new LRUCache<string, Cached>({ max: 2000, maxSize: 64 * 1024 * 1024, sizeCalculation: (c) => Math.max(1, c.json.length) });
  private readonly issueVersions = new Map<string, number>();
  private readonly gens = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<{ json: Buffer; inputs: string }>>();

  constructor(
    private readonly deps: { snapshots: ProjectSnapshots; results: ResultsRepo; knowledge: Knowledge; agents: AgentsRepo },
    private readonly opts: ContextOptions,
  ) {
    deps.snapshots.onChange((root) => this.gens.set(root, (this.gens.get(root) ?? 0) + 1));
  }

  /** A result was stored for this issue: its contexts are stale. */
  invalidateIssue(issueId: string): void {
    this.issueVersions.set(issueId, (this.issueVersions.get(issueId) ?? 0) + 1);
  }

  get entries(): number {
    return this.cache.size;
  }

  /** The context as JSON text, and whether it came from the cache. */
  async get(req: ContextRequest): Promise<{ json: Buffer; hit: boolean }> {
    const key = [req.root, req.issueId, req.agent.name, req.q ?? '', req.issues === '*' ? '*' : req.issues.join(',')].join('\0');
    const gen = this.gens.get(req.root) ?? 0;
    const iv = this.issueVersions.get(req.issueId) ?? 0;
    const c = this.cache.get(key);
    const current = c !== undefined && c.gen === gen && c.issueVersion === iv;
    if (current && Date.now() - c.at < (this.opts.relatedTtlMs ?? 10_000)) return { json: c.json, hit: true };
    // concurrent misses of one key share a build
    const flightKey = `${key}\0${gen}\0${iv}`;
    const flying = this.inflight.get(flightKey);
    if (flying) return { json: (await flying).json, hit: false };
    // past its time but with files and issue unchanged: read the inputs again, and when they
    // are what it was built from, the same bytes with a new `generated_at` (no rebuild)
    const p = this.build(req, current ? c : undefined);
    this.inflight.set(flightKey, p);
    let built: { json: Buffer; inputs: string };
    try {
      built = await p;
    } finally {
      this.inflight.delete(flightKey);
    }
    // only cache what is still current (a change during the build bumps the generation)
    if ((this.gens.get(req.root) ?? 0) === gen && (this.issueVersions.get(req.issueId) ?? 0) === iv) this.cache.set(key, { json: built.json, inputs: built.inputs, gen, issueVersion: iv, at: Date.now() });
    return { json: built.json, hit: false };
  }

  private async build(req: ContextRequest, previous: Cached | undefined): Promise<{ json: Buffer; inputs: string }> {
    const snap = await this.deps.snapshots.get(req.root);
    const [results, tasks] = await Promise.all([this.deps.results.forIssue(req.issueId), this.deps.agents.tasksOf(req.issueId)]);
    const issueText = [req.q ?? '', ...tasks, req.issueId.replace(/[-_.]/g, ' ')].join(' ');
    const terms = relevanceTerms(issueText);
    const related: KnowledgeHit[] = terms.length
      ? // a first build sees every result acknowledged before it; a revalidation (its related
        // knowledge may be relatedTtlMs old anyway) does not wait for the index writer
        await this.deps.knowledge.search({ q: terms.join(' '), issues: req.issues, excludeIssue: req.issueId, limit: 10 }, { stale: previous !== undefined })
      : [];
    const inputs = fingerprint({ snap, results, tasks, related });
    const at = previous && previous.inputs === inputs ? stampAt(previous.json) : -1;
    if (previous && at >= 0) {
      const json = Buffer.allocUnsafe(previous.json.length);
      previous.json.copy(json);
      json.write(new Date().toISOString(), at, 'latin1');
      return { json, inputs };
    }
    return { json: Buffer.from(await this.render(req, snap, results, terms, related, issueText)), inputs };
  }

  private async render(req: ContextRequest, snap: Snapshot, results: StoredResult[], terms: string[], related: KnowledgeHit[], issueText: string): Promise<string> {
    // the files earlier agents of the issue created or changed come first: what a tester, a
    // reviewer or an auditor is there for, whatever their include rules rank
    const ranked = await changedFirst(await this.ranked(snap, req.agent, terms), results, snap, req.agent);
    const upstream = req.agent.context.upstream ?? [];
    const ordered = [...results].sort((a, b) => Number(upstream.includes(b.agent_type)) - Number(upstream.includes(a.agent_type)) || a.stored_at - b.stored_at);

    const fileBudget = Math.min(req.agent.context.max_bytes ?? this.opts.defaultFileBytes, this.opts.maxBytes);
    const out = {
      issue_id: req.issueId,
      agent_type: req.agent.name,
      agent: { name: req.agent.name, description: req.agent.description, category: req.agent.category, model: req.agent.model, topics: req.agent.topics },
      issue: { text: issueText.trim(), terms },
      project: {
        root: snap.root,
        ...snap.scan.metadata,
        total_files: snap.scan.files.length,
        total_bytes: snap.scan.totalBytes,
        git_branch: snap.git.branch,
      },
      structure: { folders: foldersOf(snap.scan.files), paths: [] as string[], total: snap.scan.files.length, truncated: false },
      relevant_files: [] as { path: string; score: number; size: number; content: string; truncated: boolean }[],
      more_relevant_files: [] as string[],
      previous_results: ordered.map(summarize),
      decisions: ordered.flatMap((r) => (r.result.decisions ?? []).map((d) => ({ agent_type: r.agent_type, agent_id: r.agent_id, decision: d }))),
      related_knowledge: related.map((h) => ({ issue_id: h.issue_id, agent_type: h.agent_type, kind: h.kind, content: h.content.slice(0, 1000), score: h.score })),
      git: { branch: snap.git.branch, recent_commits: snap.git.commits },
      budget: { max_bytes: this.opts.maxBytes, file_bytes_max: fileBudget, file_bytes_used: 0, used_bytes: 0, decisions_omitted: 0 },
      generated_at: new Date().toISOString(),
    };

    // file contents first (within the agent's budget), then the structure with what is left
    let fileBytes = 0;
    for (const f of ranked) {
      const text = f.text ?? '';
      const room = fileBudget - fileBytes;
      if (room < 256) {
        if (out.more_relevant_files.length < 100) out.more_relevant_files.push(f.path);
        continue;
      }
      let content = text.length > room ? text.slice(0, room) : text;
      while (Buffer.byteLength(content) > room) content = content.slice(0, Math.floor(content.length * 0.9));
      // never half of a surrogate pair (an emoji cut in two is invalid text)
      const last = content.charCodeAt(content.length - 1);
      if (content.length < text.length && last >= 0xd800 && last <= 0xdbff) content = content.slice(0, -1);
      fileBytes += Buffer.byteLength(content);
      out.relevant_files.push({ path: f.path, score: Math.round(f.score * 100) / 100, size: f.size, content, truncated: content.length < text.length });
    }
    out.budget.file_bytes_used = fileBytes;
    const base = Buffer.byteLength(JSON.stringify(out));
    let room = this.opts.maxBytes - base - 64;
    for (const f of fairOrder(snap.scan.files)) {
      const cost = Buffer.byteLength(f.path) + 3;
      if (room - cost < 0) {
        out.structure.truncated = true;
        break;
      }
      out.structure.paths.push(f.path);
      room -= cost;
    }
    out.structure.truncated ||= snap.scan.truncated;
    // still over budget (huge results or knowledge): drop file contents from the end
    let json = JSON.stringify(out);
    while (Buffer.byteLength(json) > this.opts.maxBytes && out.relevant_files.length) {
      const dropped = out.relevant_files.pop();
      if (dropped) out.more_relevant_files.unshift(dropped.path);
      json = JSON.stringify(out);
    }
    // then previous results and decisions (200 per result, up to 4 KB each): other agent types'
    // oldest first, the upstream types' last
    const dropAt = (list: readonly { agent_type?: unknown }[]): number => Math.max(0, list.findIndex((x) => !upstream.includes(x.agent_type as string)));
    while (Buffer.byteLength(json) > this.opts.maxBytes && out.previous_results.length) {
      out.previous_results.splice(dropAt(out.previous_results), 1);
      json = JSON.stringify(out);
    }
    // (each decision's bytes are counted, not the whole text rebuilt per drop)
    for (let over = Buffer.byteLength(json) - this.opts.maxBytes; over > 0 && out.decisions.length; over = Buffer.byteLength(json) - this.opts.maxBytes) {
      const from = dropAt(out.decisions);
      let n = 0;
      for (let freed = 0; freed < over && from + n < out.decisions.length; n++) freed += Buffer.byteLength(JSON.stringify(out.decisions[from + n])) + 1;
      out.decisions.splice(from, Math.max(1, n));
      out.budget.decisions_omitted += Math.max(1, n);
      json = JSON.stringify(out);
    }
    while (Buffer.byteLength(json) > this.opts.maxBytes && out.related_knowledge.length) {
      out.related_knowledge.pop();
      json = JSON.stringify(out);
    }
    // last, the free text no step above bounds: the issue's query and its agents' tasks (5 tasks
    // of 20,000 characters, control characters 6 bytes each in JSON: 624 KB against 256), then
    // commit subjects
    while (Buffer.byteLength(json) > this.opts.maxBytes && out.issue.text.length > 1000) {
      out.issue.text = `${out.issue.text.slice(0, Math.floor(out.issue.text.length / 2))}…`;
      json = JSON.stringify(out);
    }
    while (Buffer.byteLength(json) > this.opts.maxBytes && out.git.recent_commits.length) {
      out.git.recent_commits.pop();
      json = JSON.stringify(out);
    }
    // the size field is part of the size: settle on a value that describes itself
    for (let i = 0; i < 4; i++) {
      out.budget.used_bytes = Buffer.byteLength(json);
      json = JSON.stringify(out);
      if (Buffer.byteLength(json) === out.budget.used_bytes) break;
    }
    return json;
  }

  /** Candidate files of an agent type ranked for these terms; cached with the snapshot. */
  private async ranked(snap: Snapshot, agent: AgentDefinition, terms: string[]): Promise<RankedFile[]> {
    const key = `${agent.name}\0${terms.join(' ')}`;
    const hit = snap.derived.get(key) as Promise<RankedFile[]> | undefined;
    if (hit) return hit;
    const include = agent.context.include.length ? globMatcher(agent.context.include) : () => true;
    const exclude = agent.context.exclude?.length ? globMatcher(agent.context.exclude) : () => false;
    // files of credentials never give their contents, whatever the agent's rules include
    const candidates = snap.scan.files.filter((f) => include(f.path) && !exclude(f.path) && !isSecretFile(f.path));
    // what the role's own rules name (`**/*redis*`, `**/tests/**`) ranks above what its catch-alls
    // (`src/**`) merely allow: ten roles with `src/**` got the same files in the same order
    const specific = agent.context.include.filter((g) => !CATCH_ALL.test(g));
    const own = specific.length && specific.length < agent.context.include.length ? globMatcher(specific) : undefined;
    const p = rankFiles(candidates, terms, cachedReader(snap.root, snap.contents), undefined, own ? (f) => (own(f.path) ? ROLE_BONUS : 0) : undefined);
    snap.derived.set(key, p);
    return p;
  }

}

/** Include globs that allow a whole tree rather than name what a role is about: `**`, `src/**` and the like. */
const CATCH_ALL = /^(?:\*\*(?:\/\*)?|[^*?/[{]+\/\*\*(?:\/\*)?)$/;
/** The score a file gets for matching one of the role's own rules (a term in its path gives 5). */
const ROLE_BONUS = 4;

/** A project path's top-level folder, `.` for the root's own files. */
function topFolder(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? '.' : path.slice(0, slash);
}

/** Files per top-level folder (`.` for the root's own files), at most 200 folders: the project at a glance. */
function foldersOf(files: readonly { path: string }[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const f of files) {
    const top = topFolder(f.path);
    if (counts.has(top) || counts.size < 200) counts.set(top, (counts.get(top) ?? 0) + 1);
  }
  return Object.fromEntries(counts);
}

/**
 * The files taking turns by top-level folder, so that a budget cut leaves each folder its share:
 * in scan order, one big folder (generated code, fixtures) filled the list and left `src/` out.
 */
function fairOrder<F extends { path: string }>(files: readonly F[]): F[] {
  const byTop = new Map<string, F[]>();
  for (const f of files) {
    const top = topFolder(f.path);
    let list = byTop.get(top);
    if (!list) byTop.set(top, (list = []));
    list.push(f);
  }
  const lists = [...byTop.values()];
  const out: F[] = [];
  for (let i = 0; out.length < files.length; i++) for (const l of lists) if (i < l.length) out.push(l[i] as F);
  return out;
}

/**
 * `ranked` with the files named in the issue's results (files_modified, files_created) in front,
 * in their order. They pass over the role's include rules, never its exclude rules (nor the
 * credential files): the names come from agents.
 */
async function changedFirst(ranked: RankedFile[], results: readonly StoredResult[], snap: Snapshot, agent: AgentDefinition): Promise<RankedFile[]> {
  const named: string[] = [];
  for (const r of results) {
    for (const p of [...(r.result.files_modified ?? []), ...(r.result.files_created ?? [])]) {
      if (typeof p !== 'string') continue;
      const rel = (isAbsolute(p) ? relative(snap.root, p) : p).replace(/^\.\//, '').split(sep).join('/');
      if (rel && !rel.startsWith('..') && !named.includes(rel)) named.push(rel);
    }
  }
  if (named.length === 0) return ranked;
  const excluded = agent.context.exclude?.length ? globMatcher(agent.context.exclude) : () => false;
  const scanned = new Map(snap.scan.files.map((f) => [f.path, f]));
  const inRanked = new Map(ranked.map((f) => [f.path, f]));
  const read = cachedReader(snap.root, snap.contents);
  const front: RankedFile[] = [];
  for (const path of named.slice(0, 50)) {
    const f = scanned.get(path);
    if (!f || isSecretFile(path) || excluded(path)) continue;
    const had = inRanked.get(path);
    if (had) front.push(had);
    else {
      const text = await read(f);
      if (text !== null) front.push({ ...f, score: 0, text });
    }
  }
  const first = new Set(front.map((f) => f.path));
  return [...front, ...ranked.filter((f) => !first.has(f.path))];
}

function summarize(r: StoredResult): Record<string, unknown> {
  const { status, summary, decisions, files_created, files_modified, ...rest } = r.result;
  const extra = JSON.stringify(rest);
  return {
    agent_type: r.agent_type,
    agent_id: r.agent_id,
    stored_at: r.stored_at,
    status,
    summary: summary ?? null,
    decisions: decisions ?? [],
    files_created: files_created ?? [],
    files_modified: files_modified ?? [],
    details: extra.length > 8000 ? `${extra.slice(0, 8000)}…` : rest,
  };
}
