import { sql } from 'kysely';
import type { CompiledQuery } from 'kysely';
import { PRUNE_BATCH, yieldTurn } from '../store/retention.js';
import type { PruneOptions } from '../store/retention.js';
import type { Store } from '../store/store.js';
import { StoreWriter, step } from '../store/sql-writer.js';
import type { SqlWriter } from '../store/sql-writer.js';
import type { AgentClaims } from './tokens.js';

/** A sidecar agent as `GET /api/sidecar/agents` lists it. */
export interface RecentAgent {
  agent_id: string;
  agent_type: string;
  issues: string[] | '*';
  task: string | null;
  status: 'ready' | 'completed' | 'failed' | 'ended';
  created_at: number;
  last_seen: number;
  expires_at: number;
  /** Results stored by this agent (its latest per issue and type), and of those the failed ones. */
  completed: number;
  failed: number;
}

export interface AgentStats {
  active: number;
  completed: number;
  failed: number;
  by_type: Record<string, number>;
}

interface AgentState {
  type: string;
  status: string;
  expires: number;
}

/**
 * Agents the sidecar knows: minted by spawn, or first seen presenting a token. A stored result
 * with status success/failed completes the agent; an expired token ends its activity.
 *
 * Figures for `/health` and `/status` come from memory when this process is the only writer
 * (`memory`: SQLite, no Redis; loaded once by `load()`, then kept current on every write);
 * otherwise from the store, at most once per second (other daemons register agents too).
 */
export class AgentsRepo {
  private readonly seen = new Set<string>();
  /** Last status written per agent (skips repeated identical updates). */
  private readonly statuses = new Map<string, string>();
  private state: Map<string, AgentState> | undefined;
  private readonly active = new Set<string>();
  private completed = 0;
  private failed = 0;
  private cached: { at: number; stats: Promise<AgentStats> } | undefined;
  private readonly writer: SqlWriter;
  private tasksQuery: CompiledQuery | undefined;

  constructor(
    private readonly store: Store,
    private readonly opts: { memory?: boolean; writer?: SqlWriter } = {},
  ) {
    // the sidecar's writes share one writer (on SQLite: one connection takes the write lock)
    this.writer = opts.writer ?? new StoreWriter(store);
  }

  /**
   * Reads the agents table once (memory mode); call before serving. With `since` (epoch ms: the
   * retention's start) only the agents `prune(since)` would keep: what a start reads no longer
   * grows with every agent ever spawned.
   */
  async load(opts: { since?: number } = {}): Promise<void> {
    if (!this.opts.memory || this.state) return;
    let q = this.store.db.selectFrom('sidecar_agents').select(['agent_id', 'agent_type', 'status', 'expires_at']);
    const since = opts.since;
    if (since !== undefined) q = q.where((eb) => eb.or([eb('created_at', '>=', since), eb('updated_at', '>=', since), eb('expires_at', '>=', since)]));
    const rows = await q.execute();
    this.state = new Map();
    for (const r of rows) this.apply(r.agent_id, { type: r.agent_type, status: r.status, expires: Number(r.expires_at) });
  }

  /** Whether this process has seen the agent already (its token was presented or it was spawned). */
  known(agentId: string): boolean {
    return this.seen.has(agentId);
  }

  /** Whether an agent of this id was ever registered or seen (in the store). */
  async exists(agentId: string): Promise<boolean> {
    if (this.seen.has(agentId)) return true;
    return (await this.store.db.selectFrom('sidecar_agents').select('agent_id').where('agent_id', '=', agentId).executeTakeFirst()) !== undefined;
  }

  async register(claims: AgentClaims, task: string | null): Promise<void> {
    const now = Date.now();
    const row = {
      agent_id: claims.agentId,
      agent_type: claims.agentType,
      issues: JSON.stringify(claims.issues),
      task,
      status: 'active',
      created_at: now,
      updated_at: now,
      expires_at: claims.exp * 1000,
    };
    await this.writer.run([
      step(
        this.store.db
          .insertInto('sidecar_agents')
          .values(row)
          .onConflict((oc) => oc.column('agent_id').doUpdateSet({ agent_type: row.agent_type, issues: row.issues, task, status: 'active', updated_at: now, expires_at: row.expires_at })),
      ),
    ]);
    this.seen.add(claims.agentId);
    this.statuses.set(claims.agentId, 'active');
    this.apply(claims.agentId, { type: row.agent_type, status: 'active', expires: row.expires_at });
  }

  /** Records an agent the first time this process sees its token (cheap afterwards). */
  async touch(claims: AgentClaims): Promise<void> {
    if (this.seen.has(claims.agentId)) return;
    this.seen.add(claims.agentId);
    const now = Date.now();
    let inserted: unknown[] | undefined;
    try {
      [inserted] = await this.writer.run([
        step(
          this.store.db
            .insertInto('sidecar_agents')
            .values({ agent_id: claims.agentId, agent_type: claims.agentType, issues: JSON.stringify(claims.issues), task: null, status: 'active', created_at: now, updated_at: now, expires_at: claims.exp * 1000 })
            .onConflict((oc) => oc.column('agent_id').doNothing())
            .returning('agent_id'),
        ),
      ]);
    } catch (e) {
      this.seen.delete(claims.agentId); // not recorded: the next request tries again
      throw e;
    }
    if (inserted?.length) this.apply(claims.agentId, { type: claims.agentType, status: 'active', expires: claims.exp * 1000 });
    else this.cached = undefined;
  }

  async setStatus(agentId: string, resultStatus: string): Promise<void> {
    const status = resultStatus === 'success' ? 'completed' : resultStatus === 'failed' ? 'failed' : 'active';
    if (this.statuses.get(agentId) === status) return;
    // noted first, so that a second result meanwhile does not write it again; forgotten if the write fails
    this.statuses.set(agentId, status);
    try {
      await this.writer.run([step(this.store.db.updateTable('sidecar_agents').set({ status, updated_at: Date.now() }).where('agent_id', '=', agentId))]);
    } catch (e) {
      if (this.statuses.get(agentId) === status) this.statuses.delete(agentId);
      throw e;
    }
    const cur = this.state?.get(agentId);
    if (cur) this.apply(agentId, { ...cur, status });
    else this.cached = undefined;
  }

  /**
   * Deletes the agents whose token expired and that were last seen before `before` (epoch ms),
   * `batch` a transaction on the sidecar's writer, and forgets them here. An agent whose token
   * still works is never deleted, whatever its status.
   */
  async prune(before: number, opts: PruneOptions = {}): Promise<number> {
    const batch = opts.batch ?? PRUNE_BATCH;
    let total = 0;
    while (!opts.stopped?.()) {
      // created_at <= updated_at: the condition on it only lets the created_at index find them
      const old = this.store.db.selectFrom('sidecar_agents').select('agent_id').where('created_at', '<', before).where('updated_at', '<', before).where('expires_at', '<', before).limit(batch);
      const [rows = []] = await this.writer.run([step(this.store.db.deleteFrom('sidecar_agents').where('agent_id', 'in', old).returning('agent_id'))]);
      for (const r of rows) this.forget(String(r.agent_id));
      total += rows.length;
      if (rows.length < batch) break;
      await yieldTurn();
    }
    if (total) this.cached = undefined;
    return total;
  }

  private forget(agentId: string): void {
    this.seen.delete(agentId);
    this.statuses.delete(agentId);
    const prev = this.state?.get(agentId);
    if (!prev) return;
    this.count(agentId, prev.status, -1);
    this.state?.delete(agentId);
  }

  async stats(): Promise<AgentStats> {
    const now = Date.now();
    if (this.state) {
      const out: AgentStats = { active: 0, completed: this.completed, failed: this.failed, by_type: {} };
      for (const id of this.active) {
        const a = this.state.get(id) as AgentState;
        if (a.expires <= now) {
          this.active.delete(id); // expired without a result; `apply` adds it again if it comes back
          continue;
        }
        out.active++;
        out.by_type[a.type] = (out.by_type[a.type] ?? 0) + 1;
      }
      return out;
    }
    if (this.cached && now - this.cached.at < 1000) return this.cached.stats;
    const stats = this.query(now);
    this.cached = { at: now, stats };
    stats.catch(() => (this.cached = undefined));
    return stats;
  }

  /** Keeps the in-memory figures in step with a row written to the store. */
  private apply(agentId: string, next: AgentState): void {
    this.cached = undefined;
    if (!this.state) return;
    const prev = this.state.get(agentId);
    if (prev) this.count(agentId, prev.status, -1);
    this.state.set(agentId, next);
    this.count(agentId, next.status, 1);
  }

  private count(agentId: string, status: string, d: 1 | -1): void {
    if (status === 'active') {
      if (d > 0) this.active.add(agentId);
      else this.active.delete(agentId);
    } else if (status === 'completed') this.completed += d;
    else if (status === 'failed') this.failed += d;
  }

  private async query(now: number): Promise<AgentStats> {
    const rows = await this.store.db
      .selectFrom('sidecar_agents')
      .select((eb) => ['status', 'agent_type', eb.fn.countAll<number>().as('n')])
      .where((eb) => eb.or([eb('status', '<>', 'active'), eb('expires_at', '>', now)]))
      .groupBy(['status', 'agent_type'])
      .execute();
    const out: AgentStats = { active: 0, completed: 0, failed: 0, by_type: {} };
    for (const r of rows) {
      const n = Number(r.n);
      if (r.status === 'active') {
        out.active += n;
        out.by_type[r.agent_type] = (out.by_type[r.agent_type] ?? 0) + n;
      } else if (r.status === 'completed') out.completed += n;
      else if (r.status === 'failed') out.failed += n;
    }
    return out;
  }

  /**
   * Agents active since `since` (epoch ms), newest first, with the results each stored: what the
   * dashboard shows of the sidecar after a restart, when the live messages of before are gone.
   */
  async recent(since: number, limit: number): Promise<RecentAgent[]> {
    const rows = await this.store.db
      .selectFrom('sidecar_agents')
      .select(['agent_id', 'agent_type', 'issues', 'task', 'status', 'created_at', 'updated_at', 'expires_at'])
      .where('updated_at', '>=', since)
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    if (rows.length === 0) return [];
    const counts = await this.store.db
      .selectFrom('sidecar_results')
      .select(['agent_id', 'status', sql<number>`count(*)`.as('n')])
      .where(
        'agent_id',
        'in',
        rows.map((r) => r.agent_id),
      )
      .groupBy(['agent_id', 'status'])
      .execute();
    const now = Date.now();
    return rows.map((r) => {
      const mine = counts.filter((c) => c.agent_id === r.agent_id);
      const failed = mine.filter((c) => c.status === 'failed').reduce((a, c) => a + Number(c.n), 0);
      const results = mine.reduce((a, c) => a + Number(c.n), 0) - failed;
      return {
        agent_id: r.agent_id,
        agent_type: r.agent_type,
        issues: JSON.parse(r.issues) as string[] | '*',
        task: r.task,
        // an agent whose token expired works no more, whatever its last result said
        status: Number(r.expires_at) <= now ? 'ended' : r.status === 'failed' ? 'failed' : r.status === 'completed' ? 'completed' : 'ready',
        created_at: Number(r.created_at),
        last_seen: Number(r.updated_at),
        expires_at: Number(r.expires_at),
        completed: results,
        failed,
      };
    });
  }

  /** Tasks given at spawn for agents of an issue (part of the issue's text for context). */
  async tasksOf(issueId: string): Promise<string[]> {
    // context builds ask this often: compiled once
    this.tasksQuery ??= this.store.db.selectFrom('sidecar_agents').select(['task', 'issues']).where('task', 'is not', null).orderBy('created_at', 'desc').limit(500).compile();
    const rows = (await this.store.db.executeQuery<{ task: string | null; issues: string }>(this.tasksQuery)).rows;
    return rows
      .filter((r) => {
        const issues = JSON.parse(r.issues) as string[] | '*';
        return Array.isArray(issues) && issues.includes(issueId);
      })
      .map((r) => String(r.task))
      // the same task given to several agents (helpers of one role) is the issue's text once
      .filter((t, i, all) => all.indexOf(t) === i)
      .slice(0, 5);
  }
}
