import { z } from 'zod';

export const storageSection = z
  .object({
    /** PostgreSQL URL; empty means the embedded SQLite file under CCO_HOME. `DATABASE_URL` wins. */
    database_url: z.string().default(''),
    /** SQLite file; empty means `<CCO_HOME>/analytics.db`. */
    sqlite_path: z.string().default(''),
    /** SQLite page cache in KiB (`CCO_DB_CACHE_SIZE`, in 4 KiB pages, wins). */
    sqlite_cache_kib: z.number().int().min(256).max(4_194_304).default(16_384),
    /** Redis URL for shared cache, events and jobs; empty means in-process. `REDIS_URL` wins. */
    redis_url: z.string().default(''),
  })
  .strict()
  .prefault({});
