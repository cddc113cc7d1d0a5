import { withId } from './columns.js';
import type { MigrationSet } from './types.js';

/**
 * Migrations of the pipeline module's tables. Name each `pipeline_NNN_what`; never edit one that has
 * shipped, add the next instead.
 */
export const pipelineMigrations: MigrationSet = (dialect) => ({
  pipeline_001_tasks_and_stages: {
    async up(db) {
      await db.schema
        .createTable('pipeline_tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('requirement', 'text', (c) => c.notNull())
        .addColumn('enhanced_requirement', 'text')
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('current_stage', 'text')
        .addColumn('output_format', 'text')
        .addColumn('error', 'text')
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('archived_at', 'bigint')
        .addColumn('workspace_path', 'text')
        .addColumn('archive_path', 'text')
        .addColumn('owner', 'text')
        .execute();
      await db.schema.createIndex('pipeline_tasks_status').on('pipeline_tasks').columns(['status', 'priority', 'created_at']).execute();
      await db.schema.createIndex('pipeline_tasks_created').on('pipeline_tasks').column('created_at').execute();
      await withId(db.schema.createTable('pipeline_stages'), dialect)
        .addColumn('task_id', 'text', (c) => c.notNull().references('pipeline_tasks.id').onDelete('cascade'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('agent', 'text')
        .addColumn('model', 'text')
        .addColumn('output', 'text')
        .addColumn('raw_reply', 'text')
        .addColumn('error', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('calls', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('pipeline_stages_task').on('pipeline_stages').columns(['task_id', 'stage']).unique().execute();
      await db.schema.createIndex('pipeline_stages_agent').on('pipeline_stages').columns(['agent', 'status']).execute();
    },
    async down(db) {
      await db.schema.dropTable('pipeline_stages').execute();
      await db.schema.dropTable('pipeline_tasks').execute();
    },
  },
  pipeline_002_task_created_by: {
    // The user who submitted a task (seed 004's ownership check); null for local and API-key clients.
    async up(db) {
      await db.schema.alterTable('pipeline_tasks').addColumn('created_by', 'text').execute();
      await db.schema.createIndex('pipeline_tasks_created_by').on('pipeline_tasks').columns(['created_by', 'created_at']).execute();
    },
    async down(db) {
      await db.schema.dropIndex('pipeline_tasks_created_by').execute();
      await db.schema.alterTable('pipeline_tasks').dropColumn('created_by').execute();
    },
  },
});
