import type { Store } from '../store/store.js';
import type { AgentClaims } from './tokens.js';

export interface AgentStats {
  active: number;
  completed: number;
  failed: number;
  by_type: Record<string, number>;
}

/**
 * Agents the sidecar knows: minted by spawn, or first seen presenting a token. A stored result
 * with status success/failed completes the agent; an expired token ends its activity.
 */
export class AgentsRepo {
  private readonly seen = new Set<string>();
  /** Last status written per agent (skips repeated identical updates). */
  private readonly statuses = new Map<string, string>();

  constructor(private readonly store: Store) {}

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
    await this.store.db
      .insertInto('sidecar_agents')
      .values(row)
      .onConflict((oc) => oc.column('agent_id').doUpdateSet({ agent_type: row.agent_type, issues: row.issues, task, status: 'active', updated_at: now, expires_at: row.expires_at }))
      .execute();
    this.seen.add(claims.agentId);
    this.statuses.set(claims.agentId, 'active');
  }

  /** Records an agent the first time this process sees its token (cheap afterwards). */
  async touch(claims: AgentClaims): Promise<void> {
    if (this.seen.has(claims.agentId)) return;
    this.seen.add(claims.agentId);
    const now = Date.now();
    await this.store.db
      .insertInto('sidecar_agents')
      .values({ agent_id: claims.agentId, agent_type: claims.agentType, issues: JSON.stringify(claims.issues), task: null, status: 'active', created_at: now, updated_at: now, expires_at: claims.exp * 1000 })
      .onConflict((oc) => oc.column('agent_id').doNothing())
      .execute();
  }

  async setStatus(agentId: string, resultStatus: string): Promise<void> {
    const status = resultStatus === 'success' ? 'completed' : resultStatus === 'failed' ? 'failed' : 'active';
    if (this.statuses.get(agentId) === status) return;
    this.statuses.set(agentId, status);
    await this.store.db.updateTable('sidecar_agents').set({ status, updated_at: Date.now() }).where('agent_id', '=', agentId).execute();
  }

  async stats(): Promise<AgentStats> {
    const now = Date.now();
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

  /** Tasks given at spawn for agents of an issue (part of the issue's text for context). */
  async tasksOf(issueId: string): Promise<string[]> {
    const rows = await this.store.db
      .selectFrom('sidecar_agents')
      .select(['task', 'issues'])
      .where('task', 'is not', null)
      .orderBy('created_at', 'desc')
      .limit(500)
      .execute();
    return rows
      .filter((r) => {
        const issues = JSON.parse(r.issues) as string[] | '*';
        return Array.isArray(issues) && issues.includes(issueId);
      })
      .slice(0, 5)
      .map((r) => String(r.task));
  }
}
