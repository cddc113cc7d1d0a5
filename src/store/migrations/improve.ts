import { withId } from './columns.js';
import type { MigrationSet } from './types.js';

/**
 * Migrations of the improve module's tables. Name each `improve_NNN_what`; never edit one that has
 * shipped, add the next instead.
 */
export const improveMigrations: MigrationSet = (dialect) => ({
  improve_001_cycles: {
    async up(db) {
      await db.schema
        .createTable('improve_cycles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('triggered_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('window_hours', 'double precision', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('baseline', 'text')
        .addColumn('opportunities', 'text')
        .addColumn('proposal', 'text')
        .addColumn('previous_version', 'bigint')
        .addColumn('applied_version', 'bigint')
        .addColumn('rollback_version', 'bigint')
        .addColumn('monitoring_until', 'bigint')
        .addColumn('outcome', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('improve_cycles_status').on('improve_cycles').columns(['status', 'started_at']).execute();
      await db.schema.createIndex('improve_cycles_started').on('improve_cycles').column('started_at').execute();

      await withId(db.schema.createTable('improve_config_versions'), dialect)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('cycle_id', 'text')
        .addColumn('config', 'text', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('improve_cycle_events'), dialect)
        .addColumn('cycle_id', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('improve_cycle_events_cycle').on('improve_cycle_events').columns(['cycle_id', 'id']).execute();
    },
    async down(db) {
      await db.schema.dropTable('improve_cycle_events').execute();
      await db.schema.dropTable('improve_config_versions').execute();
      await db.schema.dropTable('improve_cycles').execute();
    },
  },
  // The instance running a cycle (`host:pid:...`, core/instance-owner.ts): a start of another
  // instance of a team had taken every cycle in progress for its own orphan.
  improve_002_cycle_owner: {
    async up(db) {
      await db.schema.alterTable('improve_cycles').addColumn('owner', 'text').execute();
    },
    async down(db) {
      await db.schema.alterTable('improve_cycles').dropColumn('owner').execute();
    },
  },
});
