/**
 * An agent of the catalog (agents/*.md: Markdown with YAML front matter, like a Claude Code
 * subagent file, plus CCO's own fields).
 */
export interface AgentDefinition {
  /** kebab-case, unique: `chief-architect`, `python-specialist` ... */
  name: string;
  description: string;
  /** Claude Code tool names the agent may use. */
  tools: string[];
  /** Model tier: `opus` | `sonnet` | `haiku` (or a full model id). */
  model: string;
  /** architecture, language, framework, testing, security, documentation, devops, data, ... */
  category: string;
  /** What context the sidecar gathers for this agent. */
  context: AgentContextRules;
  topics: { subscribe: string[]; publish: string[] };
  /** The system prompt (the Markdown body). */
  prompt: string;
  /** File it was loaded from. */
  source?: string;
}

export interface AgentContextRules {
  /** Globs of files relevant to this agent type (e.g. `**\/*.py`, `**\/Dockerfile`). */
  include: string[];
  exclude?: string[];
  /** Agent types whose results for the same issue this agent should see. */
  upstream?: string[];
  /** Byte budget for file contents in its context. */
  max_bytes?: number;
}

export interface AgentCatalog {
  list(): readonly AgentDefinition[];
  get(name: string): AgentDefinition | undefined;
  has(name: string): boolean;
  /** Agent types that subscribe to a topic. */
  subscribersOf(topic: string): readonly AgentDefinition[];
}
