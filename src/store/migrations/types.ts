import type { Migration } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** A module's migrations, given the dialect so the few non-portable bits can differ. */
export type MigrationSet = (dialect: Dialect) => Record<string, Migration>;
