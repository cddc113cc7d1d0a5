import { z } from 'zod';

/** A PostgreSQL schema name CCO takes (it goes into `search_path` and `create schema` unquoted). */
export const PG_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
export const PG_SCHEMA_RULE = 'lower-case letters, digits and _ (not first), at most 63';

export const storageSection = z
  .object({
    /** PostgreSQL URL; empty means the embedded SQLite file under CCO_HOME. `DATABASE_URL` wins. */
    database_url: z.string().default(''),
    /** Most connections each process holds to PostgreSQL (`CCO_DB_POOL_MAX` wins); every instance has its own pool, so keep instances × this under the server's max_connections. */
    pg_pool_max: z.number().int().min(1).max(200).default(10),
    /**
     * The PostgreSQL schema CCO's tables (and its migration records) live in, created if missing;
     * empty means the connection's own (`public`). Give one when the database is shared: a `users`
     * table of another application, or another Kysely app's migration records, clash in `public`.
     * `CCO_PG_SCHEMA` wins.
     */
    pg_schema: z.string().refine((v) => v === '' || PG_SCHEMA_NAME.test(v), `a schema name: ${PG_SCHEMA_RULE}`).default(''),
    /** SQLite file; empty means `<CCO_HOME>/analytics.db`. */
    sqlite_path: z.string().default(''),
    /** SQLite page cache in KiB (`CCO_DB_CACHE_SIZE`, in 4 KiB pages, wins). */
    sqlite_cache_kib: z.number().int().min(256).max(4_194_304).default(16_384),
    /** Redis URL for shared cache, events and jobs; empty means in-process. `REDIS_URL` wins. */
    redis_url: z.string().default(''),
  })
  .strict()
  .prefault({});
