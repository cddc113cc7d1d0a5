import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startTestDaemon } from '../testing/test-daemon.js';
import type { TestDaemon } from '../testing/test-daemon.js';
import { claudeMcpConfig, PROJECT_ROOT_ENV } from './claude-mcp-config.js';

/** `${VAR}` / `${VAR:-default}` in a config value, expanded as Claude Code does for --mcp-config. */
const expand = (v: string, env: Record<string, string>) => v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (m, name: string, dflt?: string) => env[name] ?? dflt ?? m);

/**
 * get_context without `root` answers from the folder of the MCP session (the launcher's header),
 * not from the project the daemon first started in: the MCP config is shared by every launch.
 */
describe('get_context defaults to the MCP session’s project folder', () => {
  let d: TestDaemon;
  let dir: string;
  let projectA: string;
  let projectB: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cco-mcp-root-'));
    [projectA, projectB] = ['project-a', 'project-b'].map((n) => join(dir, n)) as [string, string];
    mkdirSync(join(projectA, 'src'), { recursive: true });
    mkdirSync(join(projectB, 'src'), { recursive: true });
    writeFileSync(join(projectA, 'src', 'alpha_ledger.py'), 'def alpha_ledger():\n    return 1\n');
    writeFileSync(join(projectB, 'src', 'bravo_ledger.py'), 'def bravo_ledger():\n    return 2\n');
    mkdirSync(join(dir, 'elsewhere'));
    // the daemon started in project A
    d = await startTestDaemon({ config: (c) => ({ ...c, sidecar: { ...c.sidecar, project_root: projectA } }) });
    // a launch from project B, as `cco` does it (the daemon allows its folder)
    const r = await fetch(`${d.url}/api/launcher/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cwd: projectB }) });
    expect(r.status).toBe(200);
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An SDK client sending the headers of the launcher's MCP config, expanded with `env`. */
  async function connect(env: Record<string, string>): Promise<Client> {
    const server = claudeMcpConfig(d.url, d.token).mcpServers.cco;
    const headers = Object.fromEntries(Object.entries(server?.headers ?? {}).map(([k, v]) => [k, expand(v, env)]));
    const client = new Client({ name: 'project-root-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server?.url ?? ''), { requestInit: { headers } }));
    clients.push(client);
    return client;
  }

  const contextOf = async (client: Client, args: Record<string, unknown> = {}) => {
    const r = await client.callTool({ name: 'get_context', arguments: { issue_id: 'issue-7', agent_type: 'python-specialist', query: 'ledger', ...args } });
    return r as { isError?: boolean; content: { text: string }[]; structuredContent?: { context: { project: { root: string }; relevant_files: { path: string }[] } } };
  };

  it('a session launched in project B gets B’s files, on every call of the session', async () => {
    const client = await connect({ [PROJECT_ROOT_ENV]: encodeURI(projectB) });
    for (let i = 0; i < 2; i++) {
      const r = await contextOf(client);
      expect(r.isError, r.content.map((c) => c.text).join()).toBeFalsy();
      expect(r.structuredContent?.context.project.root).toBe(realpathSync(projectB));
      expect(r.structuredContent?.context.relevant_files.map((f) => f.path)).toContain('src/bravo_ledger.py');
      expect(JSON.stringify(r.structuredContent)).not.toContain('alpha_ledger');
    }
    // an explicit root still wins
    const a = await contextOf(client, { root: projectA });
    expect(a.structuredContent?.context.project.root).toBe(realpathSync(projectA));
  });

  it('a folder with spaces and non-ASCII letters reaches the server intact (the header is percent-encoded)', async () => {
    const odd = join(projectB, 'sub dir ü%41');
    mkdirSync(odd);
    const r = await contextOf(await connect({ [PROJECT_ROOT_ENV]: encodeURI(odd) }));
    expect(r.isError, r.content.map((c) => c.text).join()).toBeFalsy();
    expect(r.structuredContent?.context.project.root).toBe(realpathSync(odd));
  });

  it('without the variable (the config used outside cco) the daemon’s project root is the default', async () => {
    const r = await contextOf(await connect({}));
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent?.context.project.root).toBe(realpathSync(projectA));
  });

  it('the session’s folder is checked against the allowed roots, as an explicit root is', async () => {
    const r = await contextOf(await connect({ [PROJECT_ROOT_ENV]: encodeURI(join(dir, 'elsewhere')) }));
    expect(r.isError).toBe(true);
    expect(r.content.map((c) => c.text).join()).toMatch(/root_not_allowed|outside the allowed project roots/);
  });
});
