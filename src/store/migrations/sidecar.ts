import type { MigrationSet } from './types.js';

/**
 * Migrations of the sidecar module's tables. Name each `sidecar_NNN_what`; never edit one that has
 * shipped, add the next instead.
 */
export const sidecarMigrations: MigrationSet = () => ({});
