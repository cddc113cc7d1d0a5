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
  enhancement: ['requirements-analyst', 'product-manager'],
  analysis: ['chief-architect', 'requirements-analyst'],
  // The implementer is usually the language specialist the analysis calls for (specialistFor).
  implementation: [],
  validation: ['code-reviewer', 'static-analysis-engineer'],
  integration: ['technical-writer'],
};

/** Pipeline agents have no tools: everything arrives in the message and the answer is JSON. */
const NO_TOOLS = 'In this pipeline you have no tools and no repository access: everything you need is in the message, and you answer with the JSON object described below.';

const LANGUAGE_AGENTS: Record<string, string> = {
  javascript: 'javascript-specialist',
  js: 'javascript-specialist',
  node: 'javascript-specialist',
  typescript: 'typescript-specialist',
  ts: 'typescript-specialist',
  python: 'python-specialist',
  go: 'go-specialist',
  golang: 'go-specialist',
  rust: 'rust-specialist',
  java: 'java-specialist',
  kotlin: 'kotlin-specialist',
  c: 'c-cpp-specialist',
  'c++': 'c-cpp-specialist',
  cpp: 'c-cpp-specialist',
  'c#': 'csharp-specialist',
  csharp: 'csharp-specialist',
  ruby: 'ruby-specialist',
  php: 'php-specialist',
  swift: 'swift-specialist',
  scala: 'scala-specialist',
  elixir: 'elixir-specialist',
  shell: 'shell-specialist',
  bash: 'shell-specialist',
  markdown: 'technical-writer',
};

/**
 * The implementer for a language the analysis chose: the catalog's specialist (e.g. `python` →
 * `python-specialist`) unless `stage_agents.implementation` pins one.
 */
export function specialistFor(language: string | undefined, cfg: PipelineConfig, catalog: AgentCatalog): StageAgent | undefined {
  if (!language || cfg.stage_agents.implementation) return undefined;
  const def = catalog.get(LANGUAGE_AGENTS[language.trim().toLowerCase()] ?? '');
  if (!def) return undefined;
  return {
    id: AGENT_IDS.implementation,
    stage: 'implementation',
    name: def.name,
    role: def.description,
    prompt: `${def.prompt.trim()}\n\n${NO_TOOLS}`,
    model: cfg.stage_models.implementation ?? modelOf(def.model, cfg) ?? cfg.model,
    source: 'catalog',
  };
}

function modelOf(model: string, cfg: PipelineConfig): string | undefined {
  return cfg.tier_models[model] ?? (model.includes('-') ? model : undefined);
}

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
    const catalogModel = def ? modelOf(def.model, cfg) : undefined;
    out[stage] = {
      id: AGENT_IDS[stage],
      stage,
      name: def?.name ?? builtIn.name,
      role: def?.description ?? builtIn.role,
      prompt: def?.prompt?.trim() ? `${def.prompt.trim()}\n\n${NO_TOOLS}` : builtIn.prompt,
      model: cfg.stage_models[stage] ?? catalogModel ?? cfg.model,
      source: def ? 'catalog' : 'built-in',
    };
  }
  return out;
}
