import { z } from 'zod';

/** `[pipeline]` in daemon.toml. Owned by the pipeline module; add its settings here. */
export const pipelineSection = z.object({}).passthrough().prefault({});
