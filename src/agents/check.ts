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
      if (!names.has(u)) issues.push({ file, field: `context.upstream[${i}]`, message: `unknown agent ${JSON.stringify(u)}${suggestAgentName(u, [...names.keys()])}` });
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

/** Words that say what kind of role an agent has, not what it works on: sharing one is no hint. */
const ROLE_WORDS = new Set(['analyst', 'architect', 'auditor', 'designer', 'developer', 'engineer', 'expert', 'manager', 'reviewer', 'specialist', 'writer']);
/** Words people use for a word of the catalog's names. */
const SYNONYMS: Record<string, string> = { qa: 'test', tester: 'test', tests: 'test', testing: 'test' };

const wordsOf = (name: string): string[] => name.split('-').filter((w) => w.length > 0);

/**
 * Likely meant agent names for an unknown one: the typo match when there is one that keeps the
 * subject of the name (`pyhton-specialist` → python-specialist), otherwise up to three agents
 * that share a subject word or its synonym (`qa-engineer` → the test engineers, not
 * `ml-engineer`, which only shares "engineer").
 */
export function agentNameSuggestions(word: string, known: readonly string[]): string[] {
  const input = wordsOf(word.toLowerCase()).map((w) => SYNONYMS[w] ?? w);
  const subjects = new Set(subjectWords(input));
  const related = known
    .map((name) => ({ name, words: wordsOf(name) }))
    .filter((k) => k.words.some((w) => subjects.has(w)))
    .map((k) => ({ name: k.name, shared: k.words.filter((w) => input.includes(w)).length }))
    .sort((a, b) => b.shared - a.shared || a.name.length - b.name.length || a.name.localeCompare(b.name))
    .map((k) => k.name);
  const typo = closestName(word, known);
  if (typo !== undefined && (related.includes(typo) || (related.length === 0 && keepsSubjects(subjects, typo)))) return [typo];
  return related.slice(0, 3);
}

const subjectWords = (words: readonly string[]): string[] => words.filter((w) => !ROLE_WORDS.has(w) && w.length > 1);

/** Whether each subject word is a typo of one of the name's (or of the whole name: a lost dash). */
function keepsSubjects(subjects: ReadonlySet<string>, name: string): boolean {
  const theirs = [...subjectWords(wordsOf(name)), name];
  return [...subjects].every((w) => closestName(w, theirs) !== undefined);
}

/** "; did you mean X?" (or "one of X, Y, Z") for an unknown agent name, or "". */
export function suggestAgentName(word: string, known: readonly string[]): string {
  const names = agentNameSuggestions(word, known).map((n) => JSON.stringify(n));
  if (names.length === 0) return '';
  return `; did you mean ${names.length === 1 ? names[0] : `one of ${names.join(', ')}`}?`;
}
