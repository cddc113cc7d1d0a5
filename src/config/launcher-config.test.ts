import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { ConfigError } from './config-error.js';
import { loadDaemonConfig } from './daemon-config.js';
import { readLauncherConfig } from './launcher-config.js';
import { resolvePaths } from './paths.js';

describe('launcher config (fast path, no schema)', () => {
  const t = tempCcoEnv();
  const paths = resolvePaths(t.env);
  afterAll(() => t.cleanup());

  it('defaults without a file, and lets CCO_PORT win', () => {
    expect(readLauncherConfig(paths, {})).toEqual({ host: '127.0.0.1', port: 3000, startupTimeoutMs: 3000 });
    expect(readLauncherConfig(paths, { CCO_PORT: '4100' }).port).toBe(4100);
  });

  it('takes ORCHESTRATOR_PORT (the orchestrator guide\'s "use a different port") when CCO_PORT is not set', () => {
    expect(readLauncherConfig(paths, { ORCHESTRATOR_PORT: '4101' }).port).toBe(4101);
    expect(readLauncherConfig(paths, { ORCHESTRATOR_PORT: '4101', CCO_PORT: '4100' }).port).toBe(4100);
    expect(readLauncherConfig(paths, { ORCHESTRATOR_PORT: '', CCO_PORT: '' }).port).toBe(3000);
  });

  it('refuses a CCO_PORT or ORCHESTRATOR_PORT that is no port, naming it (the launcher went to port 3000 instead), as the daemon does', () => {
    for (const [name, v] of [['CCO_PORT', 'abc'], ['CCO_PORT', '70000'], ['ORCHESTRATOR_PORT', '81.5']] as const) {
      expect(() => readLauncherConfig(paths, { [name]: v }), `${name}=${v}`).toThrow(ConfigError);
      expect(() => readLauncherConfig(paths, { [name]: v })).toThrow(new RegExp(`${name}="${v.replace('.', '\\.')}" is not a port`));
      expect(() => loadDaemonConfig(paths, { [name]: v }, { create: false })).toThrow(`${name}="${v}" is not a port`);
    }
  });

  it('reads [daemon] from daemon.toml and reports a syntax error with its line', () => {
    mkdirSync(paths.configDir, { recursive: true });
    writeFileSync(paths.configFile, '[daemon]\nport = 4200\nhost = "0.0.0.0"\n');
    expect(readLauncherConfig(paths, {})).toMatchObject({ port: 4200, host: '127.0.0.1' });
    writeFileSync(paths.configFile, '[daemon]\nport = = 1\n');
    expect(() => readLauncherConfig(paths, {})).toThrow(ConfigError);
    expect(() => readLauncherConfig(paths, {})).toThrow(/daemon\.toml:2:/);
  });
});
