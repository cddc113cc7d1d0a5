import { join } from 'node:path';

/** Where the daemon writes the catalog as a Claude Code plugin (see claude-plugin.ts). */
export const claudePluginDir = (tmpDir: string): string => join(tmpDir, '.cco-plugin');
