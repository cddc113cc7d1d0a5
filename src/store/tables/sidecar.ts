import type { Generated } from 'kysely';

/** One stored agent result; the file `results/<issue>/<agent-type>.json` holds the same body. */
export interface SidecarResultsTable {
  id: Generated<number>;
  issue_id: string;
  agent_type: string;
  agent_id: string;
  status: string | null;
  stored_at: number; // epoch ms
  file: string;
  bytes: number;
  body: string; // JSON of the whole result document
}

/** One published event; `id` is the monotonic cursor clients wait after. */
export interface SidecarEventsTable {
  id: Generated<number>;
  event_type: string;
  topic: string | null;
  publisher: string;
  agent_id: string;
  issue_id: string | null;
  data: string; // JSON
  created_at: number; // epoch ms
}

/** Agents known to the sidecar: minted by spawn or seen with a token. */
export interface SidecarAgentsTable {
  agent_id: string;
  agent_type: string;
  issues: string; // JSON array or "*"
  task: string | null;
  status: string; // active | completed | failed
  created_at: number;
  updated_at: number;
  expires_at: number;
}

/**
 * Full-text index of results and decisions (PostgreSQL; on SQLite the same columns live in an
 * FTS5 virtual table of the same name, queried with raw SQL).
 */
export interface SidecarKnowledgeTable {
  id: Generated<number>;
  issue_id: string;
  agent_type: string;
  kind: string; // decision | result
  content: string;
  created_at: number;
}

export interface SidecarTables {
  sidecar_results: SidecarResultsTable;
  sidecar_events: SidecarEventsTable;
  sidecar_agents: SidecarAgentsTable;
  sidecar_knowledge: SidecarKnowledgeTable;
}
