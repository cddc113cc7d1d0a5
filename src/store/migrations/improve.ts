import type { MigrationSet } from './types.js';

/**
 * Migrations of the improve module's tables. Name each `improve_NNN_what`; never edit one that has
 * shipped, add the next instead.
 */
export const improveMigrations: MigrationSet = () => ({});
