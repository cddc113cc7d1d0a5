import { z } from 'zod';

/** `[improve]` in daemon.toml. Owned by the improve module; add its settings here. */
export const improveSection = z.object({}).passthrough().prefault({});
