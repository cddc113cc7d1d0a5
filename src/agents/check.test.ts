import { describe, expect, it } from 'vitest';
import { loadAgentCatalog } from './catalog.js';
import { agentNameSuggestions, suggestAgentName } from './check.js';

const names = (await loadAgentCatalog(undefined, { cacheDir: false })).list().map((a) => a.name);

describe('suggestions for an unknown agent name', () => {
  it('keeps typo matches: one name', () => {
    expect(agentNameSuggestions('pyhton-specialist', names)).toEqual(['python-specialist']);
    expect(agentNameSuggestions('python-specialst', names)).toEqual(['python-specialist']);
    expect(agentNameSuggestions('pythonspecialist', names)).toEqual(['python-specialist']);
    expect(agentNameSuggestions('kubernets-specialist', names)).toEqual(['kubernetes-specialist']);
  });

  it('offers agents of a related role, not another role that only shares "engineer"', () => {
    const qa = agentNameSuggestions('qa-engineer', names);
    expect(qa).not.toContain('ml-engineer');
    expect(qa.length).toBeGreaterThan(0);
    for (const n of qa) expect(n).toMatch(/-test-engineer$/);
    expect(agentNameSuggestions('test-engineer', names)).toEqual(qa);
    expect(agentNameSuggestions('security-engineer', names)).toEqual(expect.arrayContaining(['security-auditor', 'security-architect']));
    // a typo that swaps the subject is no suggestion
    expect(agentNameSuggestions('devops-engineer', names)).not.toContain('mlops-engineer');
  });

  it('says so in the catalog check’s words', () => {
    expect(suggestAgentName('qa-engineer', names)).toMatch(/^; did you mean one of "[a-z0-9-]+-test-engineer"(, "[a-z0-9-]+-test-engineer")*\?$/);
    expect(suggestAgentName('pyhton-specialist', names)).toBe('; did you mean "python-specialist"?');
    expect(suggestAgentName('zzz', names)).toBe('');
  });
});
