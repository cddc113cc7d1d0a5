import { basename } from 'node:path';
import { closestName } from '../core/closest-name.js';
import type { AgentIssue } from './errors.js';
import type { AgentDefinition } from './types.js';

/**
 * Checks that hold across files: names are unique, every upstream agent exists, and every
 * event an agent waits for is published by some agent (otherwise it would wait forever).
 */
export function checkCatalog(defs: readonly AgentDefinition[]): AgentIssue[] {
  const issues: AgentIssue[] = [];
  const names = new Map<string, string>();
  const published = new Set<string>();
  for (const d of defs) {
    const file = d.source ? basename(d.source) : `${d.name}.md`;
    const prev = names.get(d.name);
    if (prev !== undefined) issues.push({ file, field: 'name', message: `duplicate agent name ${JSON.stringify(d.name)} (also in ${prev})` });
    else names.set(d.name, d.source ?? file);
    for (const t of d.topics.publish) published.add(t);
  }
  for (const d of defs) {
    const file = d.source ? basename(d.source) : `${d.name}.md`;
    (d.context.upstream ?? []).forEach((u, i) => {
      if (!names.has(u)) issues.push({ file, field: `context.upstream[${i}]`, message: `unknown agent ${JSON.stringify(u)}${suggestName(u, [...names.keys()])}` });
    });
    d.topics.subscribe.forEach((t, i) => {
      if (!published.has(t)) issues.push({ file, field: `topics.subscribe[${i}]`, message: `no agent publishes ${JSON.stringify(t)}${suggestName(t, [...published])}` });
    });
  }
  return issues;
}

/** "; did you mean X?" for the closest known name within a small edit distance, or "". */
export function suggestName(word: string, known: readonly string[]): string {
  const best = closestName(word, known);
  return best ? `; did you mean ${JSON.stringify(best)}?` : '';
}
