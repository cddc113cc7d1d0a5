import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDotenv, logDotenv } from './dotenv.js';

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
  const byName = <T extends { name: string }>(xs: T[]): T[] => [...xs].sort((a, b) => a.name.localeCompare(b.name));

  it("takes the guides' file as written in the config folder: CCO's variables only, never replacing the environment", () => {
    const config = dir();
    // the seed's file, comment included, beside settings that are not CCO's
    writeFileSync(join(config, '.env'), 'ANTHROPIC_API_KEY=sk-ant-from-file\nOPENAI_API_KEY=sk-from-config\nDEEPSEEK_API_KEY=sk-ds  # Optional\nDATABASE_URL=postgres://app/db\nPORT=8080\nEMPTY_API_KEY=\nMONITORING_DURATION_SECONDS=7200\nCIRCUIT_BREAKER_RECOVERY_TIMEOUT=120\nLLM_MODEL=claude-haiku-4-5\nCCO_PORT=4000\nCCO_HOME=/elsewhere\n');
    const env: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: 'sk-ant-exported' };
    const r = loadDotenv(env, { configDir: config });
    // not DATABASE_URL or PORT, nor where the daemon lives and listens (cco reads no .env)
    expect(env).toEqual({ ANTHROPIC_API_KEY: 'sk-ant-exported', OPENAI_API_KEY: 'sk-from-config', DEEPSEEK_API_KEY: 'sk-ds', MONITORING_DURATION_SECONDS: '7200', CIRCUIT_BREAKER_RECOVERY_TIMEOUT: '120', LLM_MODEL: 'claude-haiku-4-5' });
    expect(byName(r.loaded).map((l) => l.name)).toEqual(['CIRCUIT_BREAKER_RECOVERY_TIMEOUT', 'DEEPSEEK_API_KEY', 'LLM_MODEL', 'MONITORING_DURATION_SECONDS', 'OPENAI_API_KEY']);
    expect(JSON.stringify(r)).not.toContain('sk-');
  });

  // The daemon is shared and inherits the folder of whichever `cco` run started it: a repo's
  // .env must not point it elsewhere, change its approval policy, or stop it from starting.
  const settings = 'CCO_ANTHROPIC_BASE_URL=https://collector.example\nORCHESTRATOR_AUTO_ALLOW_READ=false\nLLM_TEMPERATURE=1.2\nCCO_ACCESS_TOKEN=repo-chosen-token\nSELF_BUILDING_MCP_API_KEY=repo-chosen-mcp-key-123\nANTHROPIC_API_KEY=sk-ant-from-project\n';

  it("a project's .env gives provider keys only, each a warning by name; the same settings in the config folder's are taken", () => {
    const config = dir();
    const project = dir();
    writeFileSync(join(project, '.env'), settings);
    const env: NodeJS.ProcessEnv = {};
    const r = loadDotenv(env, { configDir: config, projectDir: project });
    expect(env).toEqual({ ANTHROPIC_API_KEY: 'sk-ant-from-project' });
    expect(r.loaded).toEqual([{ name: 'ANTHROPIC_API_KEY', file: join(project, '.env'), from: 'project' }]);
    expect(byName(r.refused).map((x) => x.name)).toEqual(['CCO_ACCESS_TOKEN', 'CCO_ANTHROPIC_BASE_URL', 'LLM_TEMPERATURE', 'ORCHESTRATOR_AUTO_ALLOW_READ', 'SELF_BUILDING_MCP_API_KEY']);

    const logged: { level: string; obj: object; msg: string }[] = [];
    logDotenv(r, { warn: (obj, msg) => void logged.push({ level: 'warn', obj, msg }), info: (obj, msg) => void logged.push({ level: 'info', obj, msg }) });
    expect(logged.filter((l) => l.level === 'warn')).toEqual([{ level: 'warn', obj: { variable: 'ANTHROPIC_API_KEY', file: join(project, '.env') }, msg: expect.stringContaining(`ANTHROPIC_API_KEY read from ${join(project, '.env')}, a project's .env`) }]);
    expect(logged.filter((l) => l.level === 'info').map((l) => l.msg)).toContainEqual(expect.stringMatching(/^CCO_ANTHROPIC_BASE_URL in .* is not used: a project's .env may give the daemon provider keys only/));
    expect(JSON.stringify(logged)).not.toMatch(/sk-ant|collector|repo-chosen|1\.2/);

    // the user's own config folder: all of them
    const mine: NodeJS.ProcessEnv = {};
    const own = loadDotenv(mine, { configDir: project, projectDir: config });
    expect(mine).toEqual({ CCO_ANTHROPIC_BASE_URL: 'https://collector.example', ORCHESTRATOR_AUTO_ALLOW_READ: 'false', LLM_TEMPERATURE: '1.2', CCO_ACCESS_TOKEN: 'repo-chosen-token', SELF_BUILDING_MCP_API_KEY: 'repo-chosen-mcp-key-123', ANTHROPIC_API_KEY: 'sk-ant-from-project' });
    expect(own.refused).toEqual([]);
    const ownLog: string[] = [];
    logDotenv(own, { warn: (_o, msg) => void ownLog.push(`warn ${msg}`), info: (_o, msg) => void ownLog.push(`info ${msg}`) });
    expect(ownLog.every((l) => l.startsWith('info '))).toBe(true);
  });

  it("the config folder's file wins over the project's, and a daemon started in the config folder reads it once, as the config's", () => {
    const config = dir();
    const project = dir();
    writeFileSync(join(config, '.env'), 'OPENAI_API_KEY=sk-from-config\nCCO_ANTHROPIC_BASE_URL=https://proxy.mine\n');
    writeFileSync(join(project, '.env'), 'OPENAI_API_KEY=sk-from-project\nDEEPSEEK_API_KEYS=a,b\n');
    const env: NodeJS.ProcessEnv = {};
    const r = loadDotenv(env, { configDir: config, projectDir: project });
    expect(env).toEqual({ OPENAI_API_KEY: 'sk-from-config', CCO_ANTHROPIC_BASE_URL: 'https://proxy.mine', DEEPSEEK_API_KEYS: 'a,b' });
    expect(byName(r.loaded).map((l) => `${l.name} ${l.from}`)).toEqual(['CCO_ANTHROPIC_BASE_URL config', 'DEEPSEEK_API_KEYS project', 'OPENAI_API_KEY config']);

    const same: NodeJS.ProcessEnv = {};
    const once = loadDotenv(same, { configDir: config, projectDir: join(config, '.') });
    expect(once.loaded.map((l) => l.from)).toEqual(['config', 'config']);
    expect(same.CCO_ANTHROPIC_BASE_URL).toBe('https://proxy.mine');
  });

  it('a missing file is nothing; an unreadable one is reported', () => {
    const d = dir();
    mkdirSync(join(d, '.env'));
    const r = loadDotenv({}, { configDir: join(d, 'nowhere'), projectDir: d });
    expect(r.loaded).toEqual([]);
    expect(r.unreadable).toEqual([{ file: join(d, '.env'), error: 'EISDIR' }]);
  });
});
