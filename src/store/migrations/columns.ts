import type { ColumnDefinitionBuilder, CreateTableBuilder } from 'kysely';
import { sql } from 'kysely';
import type { Dialect } from './types.js';

/**
 * Portable column helpers. Conventions for both databases: times are epoch milliseconds in
 * `bigint`, JSON is `text`, booleans are `integer` 0/1, ids are auto-increment integers.
 */
export function withId<T extends string, C extends string>(
  table: CreateTableBuilder<T, C>,
  dialect: Dialect,
  name = 'id',
): CreateTableBuilder<T, C | string> {
  return dialect === 'postgres'
    ? table.addColumn(name, 'bigserial', (c) => c.primaryKey())
    : table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
}

export const notNull = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => c.notNull();

/** `now()` in epoch ms, usable as a column default in both dialects. */
export function nowMs(dialect: Dialect) {
  return dialect === 'postgres'
    ? sql`(floor(extract(epoch from clock_timestamp()) * 1000))::bigint`
    : sql`(cast(unixepoch('subsec') * 1000 as integer))`;
}
