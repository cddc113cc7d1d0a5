import { describe, expect, it } from 'vitest';
import { catalogOf } from '../agents/catalog.js';
import type { AgentDefinition } from '../agents/types.js';
import { pipelineSection } from '../config/sections/pipeline.js';
import { resolveStageAgents, specialistFor } from './agents.js';

const def = (name: string, model: string): AgentDefinition => ({
  name,
  description: `${name} role`,
  tools: [],
  model,
  category: 'x',
  context: { include: [] },
  topics: { subscribe: [], publish: [] },
  prompt: `You are ${name}.`,
});

describe('resolveStageAgents', () => {
  it('uses built-in roles and the configured model without a fitting catalog agent', () => {
    const a = resolveStageAgents(pipelineSection.parse({ model: 'm-default' }), catalogOf([]));
    expect(a.analysis).toMatchObject({ id: 'analyst', source: 'built-in', model: 'm-default', name: 'Requirements Analyst' });
  });

  it('prefers a catalog agent, maps its tier, and lets stage_models win', () => {
    const cfg = pipelineSection.parse({ stage_models: { validation: 'v-model' }, stage_agents: { implementation: ['my-dev'] } });
    const a = resolveStageAgents(cfg, catalogOf([def('code-reviewer', 'opus'), def('my-dev', 'claude-x-1'), def('chief-architect', 'haiku')]));
    expect(a.validation).toMatchObject({ id: 'validator', source: 'catalog', name: 'code-reviewer', model: 'v-model', });
    expect(a.validation.prompt).toMatch(/^You are code-reviewer\.\n\nIn this pipeline you have no tools/);
    expect(a.implementation).toMatchObject({ source: 'catalog', name: 'my-dev', model: 'claude-x-1' });
    expect(a.analysis).toMatchObject({ source: 'catalog', name: 'chief-architect', model: 'claude-haiku-4-5' });
  });

  it('picks the language specialist as implementer unless one is pinned', () => {
    const catalog = catalogOf([def('python-specialist', 'sonnet')]);
    expect(specialistFor('Python', pipelineSection.parse({}), catalog)).toMatchObject({ id: 'implementer', name: 'python-specialist', model: 'claude-sonnet-4-5' });
    expect(specialistFor('cobol', pipelineSection.parse({}), catalog)).toBeUndefined();
    expect(specialistFor('python', pipelineSection.parse({ stage_agents: { implementation: ['x'] } }), catalog)).toBeUndefined();
  });
});
