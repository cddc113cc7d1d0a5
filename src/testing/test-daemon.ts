import { startDaemon } from '../daemon/daemon.js';
import type { RunningDaemon } from '../daemon/daemon.js';
import { defaultDaemonConfig } from '../config/daemon-config.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { resolvePaths } from '../config/paths.js';
import { tempCcoEnv } from './temp-dirs.js';

export interface TestDaemon {
  daemon: RunningDaemon;
  url: string;
  token: string;
  env: Record<string, string | undefined>;
  cleanup(): Promise<void>;
}

/**
 * A real daemon in this process on 127.0.0.1 port 0 (sidecar too), with its own temporary
 * home, config, tmp and runtime dirs. `env` adds variables the daemon sees (e.g.
 * CCO_ANTHROPIC_BASE_URL pointing at a fake provider); `config` patches the defaults.
 */
export async function startTestDaemon(opts: { env?: Record<string, string>; config?: (c: DaemonConfig) => DaemonConfig } = {}): Promise<TestDaemon> {
  const t = tempCcoEnv();
  const env = { ...t.env, ...opts.env };
  const base = defaultDaemonConfig();
  const config = (opts.config ?? ((c) => c))({ ...base, daemon: { ...base.daemon, port: 0, log_level: 'warn' }, sidecar: { ...base.sidecar, port: 0 } });
  const daemon = await startDaemon({ env, paths: resolvePaths(env), config });
  return {
    daemon,
    url: daemon.url,
    token: daemon.accessToken,
    env,
    async cleanup() {
      await daemon.close();
      t.cleanup();
    },
  };
}
