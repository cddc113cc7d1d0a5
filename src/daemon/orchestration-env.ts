import type { DaemonConfig } from '../config/daemon-config.js';
import type { Paths } from '../config/paths.js';

export interface OrchestrationEnvInput {
  paths: Paths;
  config: DaemonConfig;
  daemonUrl: string;
  sidecarUrl: string | undefined;
}

/** The `ORCHESTRATOR_*` variables Claude Code (and every tool it runs) sees under `cco`. */
export function orchestrationEnv(i: OrchestrationEnvInput): Record<string, string> {
  const hooksConfig = {
    enabled: i.config.hooks.enabled,
    transport: 'http',
    endpoint: `${i.daemonUrl}/api/hooks`,
    timeout_seconds: i.config.hooks.timeout_seconds,
    permissions: {
      auto_allow_read: i.config.hooks.auto_allow_read,
      require_cud_confirmation: i.config.hooks.require_cud_confirmation,
    },
  };
  return {
    ORCHESTRATOR_ENABLED: 'true',
    ORCHESTRATOR_API_URL: i.daemonUrl,
    ORCHESTRATOR_SIDECAR_URL: i.sidecarUrl ?? '',
    ORCHESTRATOR_VFS_MOUNT: i.paths.tmpDir,
    ORCHESTRATOR_HOOKS_ENABLED: String(i.config.hooks.enabled),
    ORCHESTRATOR_SETTINGS: i.paths.settingsFile,
    ORCHESTRATOR_AGENTS: i.paths.sealedAgentsFile,
    ORCHESTRATOR_RULES: i.paths.sealedRulesFile,
    ORCHESTRATOR_HOOKS: i.paths.sealedHooksFile,
    ORCHESTRATOR_HOOKS_CONFIG: JSON.stringify(hooksConfig),
    ORCHESTRATOR_AUTO_ALLOW_READ: String(i.config.hooks.auto_allow_read),
    ORCHESTRATOR_REQUIRE_CUD_CONFIRMATION: String(i.config.hooks.require_cud_confirmation),
  };
}
