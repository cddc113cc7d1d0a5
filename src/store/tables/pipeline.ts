import type { Generated } from 'kysely';

/** A requirement submitted to the pipeline and its lifecycle. */
export interface PipelineTasksTable {
  id: string; // t_<time><random>
  requirement: string; // as submitted
  enhanced_requirement: string | null; // after prompt enhancement, when it ran
  priority: number; // 1..10, higher runs first
  status: string; // queued | running | completed | failed | cancelled
  current_stage: string | null;
  output_format: string | null; // code | html | svg | markdown
  error: string | null;
  options: string; // JSON: {output_format?}
  created_at: number; // epoch ms
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  archived_at: number | null;
  workspace_path: string | null;
  archive_path: string | null;
  /** The lease: the instance running the task (`host:pid:<scope>.<start>.<rand>`), renewed through `updated_at`; expired after 30 s without a renewal (src/pipeline/lease.ts). */
  owner: string | null;
  /** The user who submitted it (users.id); null for local and API-key clients. */
  created_by: string | null;
}

/** One stage of a task (created with the task; its output is what later stages see). */
export interface PipelineStagesTable {
  id: Generated<number>;
  task_id: string;
  stage: string; // enhancement | analysis | implementation | validation | integration
  position: number;
  status: string; // pending | running | completed | failed | skipped | cancelled
  agent: string | null;
  model: string | null;
  output: string | null; // JSON, schema-validated
  raw_reply: string | null; // last raw reply (kept when it did not parse)
  error: string | null;
  attempts: number; // times the stage was started (a resumed stage counts again)
  calls: number; // LLM calls made
  input_tokens: number;
  output_tokens: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface PipelineTables {
  pipeline_tasks: PipelineTasksTable;
  pipeline_stages: PipelineStagesTable;
}
