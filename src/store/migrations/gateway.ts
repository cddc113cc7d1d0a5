import type { CreateTableBuilder, Kysely } from 'kysely';
import { withId } from './columns.js';
import type { Dialect, MigrationSet } from './types.js';

/** The columns of a gateway request row (shared by the live table and its archive). */
function requestColumns<T extends string>(t: CreateTableBuilder<T, string>): CreateTableBuilder<T, string> {
  return t
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('client_format', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('route', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('upstream_model', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('error_type', 'text')
    .addColumn('stream', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_hit', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_read_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_write_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_input', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_output', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_cache_write', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_cache_read', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_total', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_saved', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('ttft_ms', 'integer')
    .addColumn('retries', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('fallback_from', 'text')
    .addColumn('session_id', 'text')
    .addColumn('agent_id', 'text')
    .addColumn('parent_agent_id', 'text')
    .addColumn('client', 'text')
    .addColumn('project', 'text')
    .addColumn('cache_key', 'text');
}

/** The indexes of gateway_requests (also re-created by /api/database/rebuild-indexes). */
export const GATEWAY_INDEXES: { name: string; columns: string[] }[] = [
  { name: 'gateway_requests_ts', columns: ['ts'] },
  { name: 'gateway_requests_model_ts', columns: ['model', 'ts'] },
  { name: 'gateway_requests_session_ts', columns: ['session_id', 'ts'] },
  { name: 'gateway_requests_project_ts', columns: ['project', 'ts'] },
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function createGatewayIndexes(db: Kysely<any>): Promise<void> {
  for (const ix of GATEWAY_INDEXES) await db.schema.createIndex(ix.name).ifNotExists().on('gateway_requests').columns(ix.columns).execute();
}

/**
 * Migrations of the gateway module's tables. Name each `gateway_NNN_what`; never edit one that has
 * shipped, add the next instead.
 */
export const gatewayMigrations: MigrationSet = (dialect: Dialect) => ({
  gateway_001_requests: {
    async up(db) {
      await requestColumns(withId(db.schema.createTable('gateway_requests'), dialect)).execute();
      await createGatewayIndexes(db);
      await requestColumns(withId(db.schema.createTable('gateway_requests_archive'), dialect)).execute();
      await db.schema.createIndex('gateway_requests_archive_ts').on('gateway_requests_archive').column('ts').execute();
    },
    async down(db) {
      await db.schema.dropTable('gateway_requests_archive').execute();
      await db.schema.dropTable('gateway_requests').execute();
    },
  },
});
