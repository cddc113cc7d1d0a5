import { z } from 'zod';
import { envNumber, withEnvSettings } from '../env-settings.js';

const stageModels = z
  .object({
    enhancement: z.string().min(1).optional(),
    analysis: z.string().min(1).optional(),
    implementation: z.string().min(1).optional(),
    validation: z.string().min(1).optional(),
    integration: z.string().min(1).optional(),
  })
  .strict();

/** `[pipeline]` in daemon.toml: the headless requirement → files pipeline. */
export const pipelineSection = z
  .object({
    enabled: z.boolean().default(true),
    /** Model every stage uses unless `stage_models` or the stage's catalog agent says otherwise. */
    model: z.string().min(1).default('claude-sonnet-4-5'),
    /** Per-stage model override (wins over the catalog agent's tier). */
    stage_models: stageModels.default({}),
    /** Catalog model tiers (`opus`, `sonnet`, `haiku`) to model ids. */
    tier_models: z.record(z.string(), z.string().min(1)).default({ opus: 'claude-opus-4-1', sonnet: 'claude-sonnet-4-5', haiku: 'claude-haiku-4-5' }),
    /** Catalog agent to use per stage (first one present in the catalog wins; else a built-in role). */
    stage_agents: z.record(z.string(), z.array(z.string().min(1))).default({}),
    /** Tasks running at the same time (per daemon instance). */
    concurrency: z.number().int().min(1).max(64).default(2),
    /** BullMQ key prefix when REDIS_URL is set: daemons with the same prefix share the task queue. */
    queue_prefix: z.string().regex(/^[A-Za-z0-9_:-]{1,64}$/).default('cco'),
    /** Longest requirement accepted, in characters. */
    max_requirement_chars: z.number().int().min(100).max(1_000_000).default(20_000),
    /** Prompt enhancement: `auto` improves weak requirements, `always`, or `never`. */
    enhance: z.enum(['auto', 'always', 'never']).default('auto'),
    /** A requirement with fewer words than this counts as weak (auto mode). */
    weak_min_words: z.number().int().min(0).max(1000).default(12),
    max_tokens: z.number().int().min(256).max(200_000).default(8192),
    temperature: z.number().min(0).max(1).default(0.2),
    /** One LLM call's time limit (through the gateway, which retries on its own). */
    request_timeout_ms: z.number().int().min(1000).max(30 * 60_000).default(300_000),
    /** Extra attempts after a failed gateway call (HTTP error, broken answer). */
    call_retries: z.number().int().min(0).max(5).default(1),
    /** Extra attempts after a reply that does not parse against the stage's schema. */
    parse_retries: z.number().int().min(0).max(5).default(1),
    /** Characters of previous stages' output given to the next stage. */
    context_max_chars: z.number().int().min(1000).max(2_000_000).default(120_000),
    /** Files one task may write, and bytes per file. */
    max_files: z.number().int().min(1).max(1000).default(50),
    max_file_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(2 * 1024 * 1024),
    /**
     * A validator verdict of `passed: false` fails the task ("Validation failed: <summary>"), as
     * PRODUCT.md asks; `false` completes it anyway, with the verdict on the task and the files kept.
     */
    fail_on_validation_reject: z.boolean().default(true),
    /** Archive entries older than this are deleted (0 = keep forever). */
    archive_retention_days: z.number().min(0).max(36_500).default(30),
    /** At most this many archived tasks are kept (oldest deleted first; 0 = no limit). */
    archive_max_tasks: z.number().int().min(0).max(1_000_000).default(1000),
    /** The archive as a whole is kept under this many MB, oldest tasks deleted first (0 = no limit). */
    archive_max_size_mb: z.number().min(0).max(10_000_000).default(1000),
    /** Archived files gzip-compressed (`files/<path>.gz`; task.json stays plain). */
    archive_compression: z.boolean().default(false),
    /** gzip level 1 (fast) to 9 (small). */
    archive_compression_level: z.number().int().min(1).max(9).default(6),
    /** Task folders under workspace/implementation older than this are deleted (0 = keep). */
    workspace_retention_days: z.number().min(0).max(36_500).default(0),
    /** How often the retention cleanup runs. */
    cleanup_interval_minutes: z.number().min(1).max(7 * 24 * 60).default(60),
  })
  .strict()
  .prefault({});

export type PipelineConfig = z.infer<typeof pipelineSection>;

/**
 * The seed's LLM settings as environment variables (`LLM_MAX_TOKENS=2000` in `.env`), mapped onto
 * this section's keys. As for `[improve]`, the environment wins over daemon.toml.
 */
const ENV_KEYS = {
  LLM_MAX_TOKENS: 'max_tokens',
  LLM_TEMPERATURE: 'temperature',
  LLM_MODEL: 'model',
} as const satisfies Record<string, keyof PipelineConfig>;

/** The environment variables `pipelineSettings` reads (a `.env` file may hold them too). */
export const PIPELINE_ENV_NAMES: readonly string[] = Object.keys(ENV_KEYS);

/** A model id as a route names it (`claude-haiku-4-5`, `anthropic.claude-v3`, `openai/gpt-4o`, `…-v1:0`). */
const MODEL_ID = /^[\w.:/@+-]{1,200}$/;

/**
 * The section with the seed's `LLM_*` variables applied. `LLM_MODEL` is the model of every stage
 * (over `model` and the catalog agents' tiers) except the stages `stage_models` pins. A malformed
 * value is an error naming the variable, never silently ignored.
 */
export function pipelineSettings(section: PipelineConfig, env: Record<string, string | undefined>): PipelineConfig {
  const settings = withEnvSettings(pipelineSection, section, env, ENV_KEYS, 'pipeline', (name, v, key) => {
    if (key !== 'model') return envNumber(name, v);
    if (!MODEL_ID.test(v)) throw new Error(`${name}=${JSON.stringify(v)} is not a model id (letters, digits and . _ : / @ + - only; e.g. ${name}=claude-haiku-4-5)`);
    return v;
  });
  const model = env.LLM_MODEL?.trim();
  if (!model) return settings;
  // catalog agents carry a tier (`sonnet`): the variable means "this model", so it fills every stage not pinned
  const stages = Object.keys(stageModels.shape) as (keyof PipelineConfig['stage_models'])[];
  return { ...settings, stage_models: Object.fromEntries(stages.map((s) => [s, settings.stage_models[s] ?? model])) };
}
