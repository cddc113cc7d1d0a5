import type { MigrationSet } from './types.js';

/**
 * Migrations of the gateway module's tables. Name each `gateway_NNN_what`; never edit one that has
 * shipped, add the next instead.
 */
export const gatewayMigrations: MigrationSet = () => ({});
