import { z } from 'zod';
import { OUTPUT_FORMATS } from './types.js';
import type { OutputFormat, StageName } from './types.js';

/** `POST /api/requirements` body; the length bound comes from config. */
export function requirementBody(maxChars: number) {
  return z
    .object({
      requirement: z
        .string({ error: 'requirement must be a string' })
        .refine((s) => s.trim().length > 0, 'requirement must not be empty')
        .refine((s) => s.length <= maxChars, `requirement is longer than ${maxChars} characters`),
      priority: z.number({ error: 'priority must be an integer from 1 to 10' }).int('priority must be an integer from 1 to 10').min(1, 'priority must be from 1 to 10').max(10, 'priority must be from 1 to 10').default(5),
      output_format: z.enum(OUTPUT_FORMATS).optional(),
    })
    .strict();
}

export const TASK_ID_RE = /^t_[a-z0-9]{8,40}$/;
export const taskParams = z.object({ id: z.string().regex(TASK_ID_RE, 'id must be a task id like t_...') }).strict();
export const listQuery = z
  .object({
    status: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

// ---- stage outputs (what each agent must answer, as one JSON object) ----

export const enhancementOutput = z.object({
  enhanced_requirement: z.string().min(1),
  steps: z.array(z.string()).min(1),
  acceptance_criteria: z.array(z.string()).min(1),
});

export const analysisOutput = z.object({
  summary: z.string().min(1),
  output_format: z.enum(OUTPUT_FORMATS),
  language: z.string().optional(),
  components: z.array(z.string()).default([]),
  steps: z.array(z.string()).min(1),
  acceptance_criteria: z.array(z.string()).default([]),
  files_planned: z.array(z.object({ path: z.string().min(1), purpose: z.string().default('') })).default([]),
});

export const implementationOutput = z.object({
  files: z.array(z.object({ path: z.string().min(1).max(255), content: z.string(), description: z.string().optional() })).min(1),
  notes: z.string().default(''),
});

export const validationOutput = z.object({
  passed: z.boolean(),
  score: z.number().min(0).max(100),
  issues: z.array(z.object({ severity: z.enum(['info', 'minor', 'major', 'critical']), file: z.string().optional(), message: z.string() })).default([]),
  summary: z.string().min(1),
});

export const integrationOutput = z.object({
  summary: z.string().min(1),
  readme: z.string().min(1),
  entrypoint: z.string().optional(),
});

export const STAGE_SCHEMAS = {
  enhancement: enhancementOutput,
  analysis: analysisOutput,
  implementation: implementationOutput,
  validation: validationOutput,
  integration: integrationOutput,
} as const satisfies Record<StageName, z.ZodType>;

export type StageOutputs = { [K in StageName]: z.infer<(typeof STAGE_SCHEMAS)[K]> };

/** File extensions that satisfy an output format (checked on the implementation's files). */
export const FORMAT_EXTENSIONS: Record<OutputFormat, readonly string[] | undefined> = {
  code: undefined,
  html: ['.html', '.htm'],
  svg: ['.svg', '.html', '.htm'],
  markdown: ['.md', '.markdown'],
};
