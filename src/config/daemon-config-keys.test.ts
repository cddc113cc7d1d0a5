import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempCcoEnv } from '../testing/temp-dirs.js';
import { DEFAULT_CONFIG_TOML, daemonConfigSchema, loadDaemonConfig } from './daemon-config.js';
import { resolvePaths } from './paths.js';

const REPO = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const t = tempCcoEnv();
const paths = resolvePaths(t.env);
mkdirSync(paths.configDir, { recursive: true });
afterAll(() => t.cleanup());

/** Loads `toml` as this daemon's daemon.toml. */
const load = (toml: string) => {
  writeFileSync(paths.configFile, toml);
  return loadDaemonConfig(paths, t.env);
};

/** Keys a section of the schema accepts. */
const sectionKeys = (section: string): string[] => {
  const schema = (daemonConfigSchema.shape as unknown as Record<string, { unwrap(): { shape: Record<string, unknown> } } | undefined>)[section];
  return schema ? Object.keys(schema.unwrap().shape) : [];
};

/** `# port = 3001   (default ...)` → `port = 3001`: the keys an example only shows commented out. */
const uncommentKeys = (toml: string): string => toml.replace(/^#\s*([a-z_]+\s*=\s*(?:"[^"]*"|[^\s#]+)).*$/gm, '$1');

describe('an unknown key in any section of daemon.toml', () => {
  // one typo per section; the ones that used to be ignored first (sidecar, gateway, dashboard, improve, mcp)
  const typos: [section: string, line: string, meant: string][] = [
    ['sidecar', 'prt = 3482', 'port'],
    ['gateway', 'cache_ttl_second = 10', 'cache_ttl_seconds'],
    ['dashboard', 'terminal_enable = true', 'terminal_enabled'],
    ['improve', 'min_request = 5', 'min_requests'],
    ['mcp', 'max_session = 9', 'max_sessions'],
    ['daemon', 'prot = 3000', 'port'],
    ['storage', 'redis_ur = ""', 'redis_url'],
    ['hooks', 'retention_day = 3', 'retention_days'],
    ['pipeline', 'concurency = 2', 'concurrency'],
    ['auth', 'access_ttl_second = 600', 'access_ttl_seconds'],
    ['rate_limits', 'login_per_minut = 5', 'login_per_minute'],
  ];

  it.each(typos)('[%s] %s is refused with its line and the key it was meant to be', (section, line, meant) => {
    const key = line.split(' ')[0] as string;
    // another section first, with a valid key: the line must be the typo's in its own section
    const before = section === 'hooks' ? '[storage]\nredis_url = ""\n' : '[hooks]\nenabled = true\n';
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(() => load(`${before}\n[${section}]\n${line}\n`)).toThrow(
      new RegExp(`daemon\\.toml:5: ${esc(section)}\\.${esc(key)}: unknown key "${esc(key)}" \\(did you mean "${esc(meant)}"\\?\\)`),
    );
  });

  it('without a close name, lists the section’s keys', () => {
    expect(() => load('[gateway]\ncache_size = 1\n')).toThrow(/daemon\.toml:2: gateway\.cache_size: unknown key "cache_size" \(known: enabled, cache_size_mb, cache_ttl_seconds/);
  });

  it('in an [[mcp.keys]] entry, names the entry and its line', () => {
    const toml = '[mcp]\nenabled = true\n\n[[mcp.keys]]\ntenant = "a"\nkey_env = "A_KEY"\n\n[[mcp.keys]]\ntenant = "b"\nkey_env = "B_KEY"\nadmn = true\n';
    expect(() => load(toml)).toThrow(/daemon\.toml:11: mcp\.keys\.1\.admn: unknown key "admn" \(did you mean "admin"\?\)/);
  });
});

describe('the shipped and documented daemon.toml files still load', () => {
  it('the first-run daemon.toml, as written and with its commented keys set', () => {
    expect(load(DEFAULT_CONFIG_TOML).sidecar.port).toBeUndefined();
    expect(load(uncommentKeys(DEFAULT_CONFIG_TOML)).sidecar.port).toBe(3001);
  });

  it('the first-run daemon.toml of the first release (`[sidecar] port = 3001`)', () => {
    const first = `[daemon]\nhost = "127.0.0.1"\nport = 3000\nlog_level = "info"\n\n[storage]\ndatabase_url = ""\nredis_url = ""\n\n[hooks]\nenabled = true\nauto_allow_read = true\nrequire_cud_confirmation = false\ntimeout_seconds = 5\n\n[sidecar]\nenabled = true\nport = 3001\n\n[gateway]\ncache_size_mb = 500\ncache_ttl_seconds = 3600\n\n[dashboard]\nterminal_enabled = false\n`;
    expect(load(first).sidecar.port).toBe(3001);
  });

  const docFiles = [...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f)), 'README.md'];
  const docs = docFiles.map((f) => [f, readFileSync(join(REPO, f), 'utf8')] as const);

  it('every ```toml example in docs/ and README.md, with its commented keys set', () => {
    const blocks = docs.flatMap(([f, text]) => [...text.matchAll(/^```toml\n([\s\S]*?)^```/gm)].map((m) => [f, m[1] as string] as const));
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const [f, toml] of blocks) {
      expect(() => load(uncommentKeys(toml)), `${f}:\n${toml}`).not.toThrow();
    }
  });

  it('every key the docs name as `[section] key` or in a section’s settings table is known', () => {
    const named: string[] = docs.flatMap(([, text]) => [...text.matchAll(/`\[([a-z_]+)\] ([a-z_]+)/g)].map((m) => `${m[1]}.${m[2]}`));
    named.push(...settingsKeys('docs/sidecar.md', '| setting (`[sidecar]`', 'sidecar'));
    named.push(...settingsKeys('docs/improve.md', '## Settings (`[improve]`', 'improve'));
    named.push(...settingsKeys('docs/mcp.md', '## Settings (`[mcp]`)', 'mcp'));
    expect(named).toEqual(expect.arrayContaining(['sidecar.wait_max_ms', 'sidecar.agent_retention_days', 'improve.llm_model', 'mcp.local_tenant', 'gateway.routing_config']));
    const unknown = named.filter((k) => !sectionKeys(k.split('.')[0] as string).includes(k.split('.')[1] as string));
    expect(unknown).toEqual([]);
  });

  /**
   * The keys a doc's settings part names, from `marker` to the next heading: the first cell of each
   * table row, and `name (default)` in prose.
   */
  function settingsKeys(file: string, marker: string, section: string): string[] {
    const text = readFileSync(join(REPO, file), 'utf8');
    const start = text.indexOf(marker);
    expect(start, `${file} has no "${marker}"`).toBeGreaterThanOrEqual(0);
    const end = text.indexOf('\n## ', start + 1);
    const part = text.slice(start, end < 0 ? undefined : end);
    const names = part.split('\n').flatMap((l) => {
      const cell = l.startsWith('|') ? (l.split('|')[1] ?? '') : undefined;
      const found = cell !== undefined ? cell.matchAll(/`([a-z][a-z0-9_]*)`/g) : l.matchAll(/`([a-z][a-z0-9_]*)` \(/g);
      return [...found].map((m) => m[1] as string);
    });
    return names.map((n) => `${section}.${n}`);
  }
});
