import type { AgentCatalog, AgentDefinition } from './types.js';

/** In-memory catalog over loaded definitions. */
export function catalogOf(defs: readonly AgentDefinition[]): AgentCatalog {
  const byName = new Map(defs.map((d) => [d.name, d]));
  return {
    list: () => defs,
    get: (name) => byName.get(name),
    has: (name) => byName.has(name),
    subscribersOf: (topic) => defs.filter((d) => d.topics.subscribe.includes(topic)),
  };
}

/**
 * Loads the agent catalog from `agents/*.md`. (Placeholder until the catalog loader lands:
 * returns an empty catalog.)
 */
export async function loadAgentCatalog(_dir?: string): Promise<AgentCatalog> {
  return catalogOf([]);
}
