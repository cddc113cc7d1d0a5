import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDotenv } from './dotenv.js';

describe('CCO settings from .env files', () => {
  const dirs: string[] = [];
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'cco-dotenv-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("takes the guides' file as written: CCO's variables only, never replacing the environment, the first file winning", () => {
    const config = dir();
    const project = dir();
    writeFileSync(join(config, '.env'), 'OPENAI_API_KEY=sk-from-config\n');
    // the seed's file, comment included, beside a project's own settings
    writeFileSync(join(project, '.env'), 'ANTHROPIC_API_KEY=sk-ant-from-project\nOPENAI_API_KEY=sk-from-project\nDEEPSEEK_API_KEY=sk-ds  # Optional\nDATABASE_URL=postgres://app/db\nPORT=8080\nEMPTY_API_KEY=\nMONITORING_DURATION_SECONDS=7200\nCIRCUIT_BREAKER_RECOVERY_TIMEOUT=120\nLLM_MODEL=claude-haiku-4-5\nCCO_PORT=4000\nCCO_HOME=/elsewhere\n');
    const env: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: 'sk-ant-exported' };
    const r = loadDotenv(env, [config, project]);
    // not the project's own DATABASE_URL or PORT, nor where the daemon lives and listens (cco reads no .env)
    expect(env).toEqual({ ANTHROPIC_API_KEY: 'sk-ant-exported', OPENAI_API_KEY: 'sk-from-config', DEEPSEEK_API_KEY: 'sk-ds', MONITORING_DURATION_SECONDS: '7200', CIRCUIT_BREAKER_RECOVERY_TIMEOUT: '120', LLM_MODEL: 'claude-haiku-4-5' });
    expect([...r.loaded].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'CIRCUIT_BREAKER_RECOVERY_TIMEOUT', file: join(project, '.env') },
      { name: 'DEEPSEEK_API_KEY', file: join(project, '.env') },
      { name: 'LLM_MODEL', file: join(project, '.env') },
      { name: 'MONITORING_DURATION_SECONDS', file: join(project, '.env') },
      { name: 'OPENAI_API_KEY', file: join(config, '.env') },
    ]);
    expect(JSON.stringify(r)).not.toContain('sk-');
  });

  it('a missing file is nothing; an unreadable one is reported', () => {
    const d = dir();
    mkdirSync(join(d, '.env'));
    const r = loadDotenv({}, [join(d, 'nowhere'), d]);
    expect(r.loaded).toEqual([]);
    expect(r.unreadable).toEqual([{ file: join(d, '.env'), error: 'EISDIR' }]);
  });
});
