import { z } from 'zod';

/** `[mcp]` in daemon.toml. Owned by the mcp module; add its settings here. */
export const mcpSection = z.object({}).passthrough().prefault({});
