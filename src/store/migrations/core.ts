import { withId } from './columns.js';
import type { MigrationSet } from './types.js';

export const coreMigrations: MigrationSet = (dialect) => ({
  core_001_hook_events: {
    async up(db) {
      await withId(db.schema.createTable('hook_events'), dialect)
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text')
        .addColumn('tool_name', 'text')
        .addColumn('tool_use_id', 'text')
        .addColumn('agent_id', 'text')
        .addColumn('agent_type', 'text')
        .addColumn('cwd', 'text')
        .addColumn('decision', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('hook_events_session').on('hook_events').columns(['session_id', 'id']).execute();
      await db.schema.createIndex('hook_events_time').on('hook_events').column('received_at').execute();
    },
    async down(db) {
      await db.schema.dropTable('hook_events').execute();
    },
  },
  core_002_hook_events_cwd: {
    // project stats match the sessions whose hooks reported a directory: without this index
    // every call read the whole table
    async up(db) {
      await db.schema.createIndex('hook_events_cwd').on('hook_events').columns(['cwd', 'session_id']).execute();
    },
    async down(db) {
      await db.schema.dropIndex('hook_events_cwd').execute();
    },
  },
});
