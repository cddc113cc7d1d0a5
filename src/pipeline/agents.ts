import type { AgentCatalog } from '../agents/types.js';
import type { PipelineConfig } from '../config/sections/pipeline.js';
import { BUILT_IN_ROLES } from './prompts.js';
import { STAGES } from './types.js';
import type { StageName } from './types.js';

/** The agent that runs one stage. */
export interface StageAgent {
  /** Stable id of the agent card: `enhancer`, `analyst`, `implementer`, `validator`, `integrator`. */
  id: string;
  stage: StageName;
  /** Display name: the catalog agent's name, or the built-in role's. */
  name: string;
  role: string;
  prompt: string;
  model: string;
  source: 'catalog' | 'built-in';
}

export const AGENT_IDS: Record<StageName, string> = {
  enhancement: 'enhancer',
  analysis: 'analyst',
  implementation: 'implementer',
  validation: 'validator',
  integration: 'integrator',
};

/** Catalog agents that fit each stage, in order of preference (config `stage_agents` overrides). */
export const DEFAULT_STAGE_AGENTS: Record<StageName, string[]> = {
  enhancement: ['prompt-engineer', 'requirements-analyst', 'business-analyst'],
  analysis: ['requirements-analyst', 'chief-architect', 'solution-architect', 'software-architect', 'system-architect'],
  implementation: ['senior-developer', 'fullstack-developer', 'full-stack-developer', 'software-engineer', 'backend-developer'],
  validation: ['code-reviewer', 'qa-engineer', 'quality-assurance-engineer', 'test-engineer', 'security-auditor'],
  integration: ['integration-specialist', 'release-manager', 'devops-engineer', 'technical-writer'],
};

/**
 * Picks each stage's agent: a fitting catalog agent (its prompt becomes the role) when there is
 * one, otherwise the built-in role. Model: `stage_models` > the catalog agent's tier/model > `model`.
 */
export function resolveStageAgents(cfg: PipelineConfig, catalog: AgentCatalog): Record<StageName, StageAgent> {
  const out = {} as Record<StageName, StageAgent>;
  for (const stage of STAGES) {
    const wanted = cfg.stage_agents[stage] ?? DEFAULT_STAGE_AGENTS[stage];
    const def = wanted.map((n) => catalog.get(n)).find((d) => d !== undefined);
    const builtIn = BUILT_IN_ROLES[stage];
    const catalogModel = def ? (cfg.tier_models[def.model] ?? (def.model.includes('-') ? def.model : undefined)) : undefined;
    out[stage] = {
      id: AGENT_IDS[stage],
      stage,
      name: def?.name ?? builtIn.name,
      role: def?.description ?? builtIn.role,
      prompt: def?.prompt?.trim() ? def.prompt : builtIn.prompt,
      model: cfg.stage_models[stage] ?? catalogModel ?? cfg.model,
      source: def ? 'catalog' : 'built-in',
    };
  }
  return out;
}
