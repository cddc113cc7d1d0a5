import type { MigrationSet } from './types.js';

/**
 * Migrations of the pipeline module's tables. Name each `pipeline_NNN_what`; never edit one that has
 * shipped, add the next instead.
 */
export const pipelineMigrations: MigrationSet = () => ({});
