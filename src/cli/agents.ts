import { Command, CommanderError } from 'commander';
import { AgentCatalogError } from '../agents/errors.js';
import type { AgentCatalog, AgentDefinition } from '../agents/types.js';
import { loadAgentCatalog } from '../agents/catalog.js';
import { agentNameSuggestions } from '../agents/check.js';
import { closestName } from '../core/closest-name.js';

/**
 * `cco agents list|show|export`: browse the agent catalog and hand it to Claude Code.
 * `--catalog <dir>` reads another catalog folder (default: the one CCO ships).
 */
export async function main(args: string[]): Promise<number> {
  const out = (s: string): void => void process.stdout.write(s);
  const err = (s: string): void => void process.stderr.write(s);
  let code = 0;
  const program = new Command('cco agents').description('the agent catalog').exitOverride().configureOutput({ writeOut: out, writeErr: err });

  program
    .command('list')
    .description('list agents (name, model, category, description)')
    .option('--category <category>', 'only agents of this category')
    .option('--json', 'print JSON')
    .option('--catalog <dir>', 'catalog folder')
    .action(async (o: { category?: string; json?: boolean; catalog?: string }) => {
      const catalog = await load(o.catalog);
      let agents = catalog.list();
      if (o.category !== undefined) {
        const categories = [...new Set(agents.map((a) => a.category))].sort();
        if (!categories.includes(o.category)) throw new UserError(`Unknown category "${o.category}".${hint(o.category, categories)} Categories: ${categories.join(', ')}`);
        agents = agents.filter((a) => a.category === o.category);
      }
      if (o.json) return out(JSON.stringify(agents.map(summary), null, 2) + '\n');
      out(table(agents));
      const cats = new Set(agents.map((a) => a.category)).size;
      out(`\n${agents.length} ${agents.length === 1 ? 'agent' : 'agents'}${o.category ? ` in category ${o.category}` : ` in ${cats} categories`}\n`);
    });

  program
    .command('show')
    .description('show one agent: its fields and its prompt')
    .argument('<name>', 'agent name, e.g. python-specialist')
    .option('--json', 'print JSON')
    .option('--catalog <dir>', 'catalog folder')
    .action(async (name: string, o: { json?: boolean; catalog?: string }) => {
      const a = find(await load(o.catalog), name);
      if (o.json) return out(JSON.stringify(a, null, 2) + '\n');
      out(describe(a));
    });

  program
    .command('export')
    .description('write .claude/agents/<name>.md for Claude Code (or print the --agents JSON)')
    .option('--dir <project>', 'project folder (files go to <project>/.claude/agents)', process.cwd())
    .option('--only <names>', 'comma-separated agent names')
    .option('--force', 'also overwrite files that were not exported by cco')
    .option('--no-mcp-tools', "don't add the cco MCP tools to each agent's tool list")
    .option('--agents-json', "print the JSON for `claude --agents` instead of writing files (for a few agents: one argument is limited to 128 KB)")
    .option('--catalog <dir>', 'catalog folder')
    .action(async (o: { dir: string; only?: string; force?: boolean; mcpTools: boolean; agentsJson?: boolean; catalog?: string }) => {
      const catalog = await load(o.catalog);
      const agents = o.only !== undefined ? pick(catalog, o.only) : catalog.list();
      const { AgentExportError, exportAgents, toClaudeAgentsJson } = await import('../agents/export.js');
      if (o.agentsJson) return out(JSON.stringify(toClaudeAgentsJson(agents, { mcpTools: o.mcpTools })) + '\n');
      let r;
      try {
        r = exportAgents(agents, { dir: o.dir, force: o.force === true, mcpTools: o.mcpTools });
      } catch (e) {
        if (e instanceof AgentExportError) throw new UserError(e.message);
        throw e;
      }
      out(`Exported ${r.written.length} ${r.written.length === 1 ? 'agent' : 'agents'} to ${r.agentsDir}\n`);
      if (r.skipped.length > 0) {
        err(`⚠️  Skipped ${r.skipped.length} existing ${r.skipped.length === 1 ? 'file' : 'files'} not written by cco (use --force to replace): ${r.skipped.join(', ')}\n`);
        code = 1;
      }
      if (r.failed.length > 0) {
        err(`❌ Could not write ${r.failed.length} ${r.failed.length === 1 ? 'file' : 'files'}: ${r.failed.map((f) => `${f.file} (${f.error})`).join(', ')}\n`);
        code = 1;
      }
    });

  try {
    if (args.length === 0) {
      out(program.helpInformation());
      return 2;
    }
    await program.parseAsync(args, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UserError) {
      err(`❌ ${e.message}\n`);
      return 2;
    }
    if (e instanceof AgentCatalogError) {
      err(`❌ ${e.message}\n`);
      return 78;
    }
    throw e;
  }
}

class UserError extends Error {}

/** " Did you mean "x"?" when a known category is a likely typo of `word`. */
function hint(word: string, known: readonly string[]): string {
  const best = closestName(word, known);
  return best ? ` Did you mean "${best}"?` : '';
}

/** " Did you mean "x"?" (or "one of ...") for an unknown agent name: a typo, or agents of a related role. */
function agentHint(word: string, known: readonly string[]): string {
  const names = agentNameSuggestions(word, known).map((n) => `"${n}"`);
  if (names.length === 0) return '';
  return ` Did you mean ${names.length === 1 ? names[0] : `one of ${names.join(', ')}`}?`;
}

async function load(dir: string | undefined): Promise<AgentCatalog> {
  return loadAgentCatalog(dir);
}

function find(catalog: AgentCatalog, name: string): AgentDefinition {
  const a = catalog.get(name);
  if (!a) throw new UserError(`Unknown agent "${name}".${agentHint(name, catalog.list().map((d) => d.name))} See the names with: cco agents list`);
  return a;
}

function pick(catalog: AgentCatalog, only: string): AgentDefinition[] {
  const names = only.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UserError('--only needs at least one agent name, e.g. --only chief-architect,python-specialist');
  const unknown = names.filter((n) => !catalog.has(n));
  if (unknown.length > 0) {
    const all = catalog.list().map((d) => d.name);
    throw new UserError(`Unknown ${unknown.length === 1 ? 'agent' : 'agents'}: ${unknown.map((n) => `"${n}"`).join(', ')}.${unknown.map((n) => agentHint(n, all)).join('')} See the names with: cco agents list`);
  }
  return [...new Set(names)].map((n) => catalog.get(n) as AgentDefinition);
}

function summary(a: AgentDefinition): Omit<AgentDefinition, 'prompt' | 'source'> {
  const { prompt: _p, source: _s, ...rest } = a;
  return rest;
}

function table(agents: readonly AgentDefinition[]): string {
  const w = Math.max(4, ...agents.map((a) => a.name.length));
  const c = Math.max(8, ...agents.map((a) => a.category.length));
  const cols = process.stdout.columns && process.stdout.columns > 60 ? process.stdout.columns : 160;
  const descW = Math.max(20, cols - w - c - 12);
  const line = (n: string, m: string, k: string, d: string): string => `${n.padEnd(w)}  ${m.padEnd(6)}  ${k.padEnd(c)}  ${d}\n`;
  let s = line('NAME', 'MODEL', 'CATEGORY', 'DESCRIPTION');
  for (const a of agents) s += line(a.name, a.model, a.category, a.description.length > descW ? `${a.description.slice(0, descW - 1)}…` : a.description);
  return s;
}

function describe(a: AgentDefinition): string {
  const rows: [string, string][] = [
    ['name', a.name],
    ['category', a.category],
    ['model', a.model],
    ['tools', a.tools.join(', ')],
    ['subscribes', a.topics.subscribe.join(', ') || '(none: starts when the orchestrator spawns it)'],
    ['publishes', a.topics.publish.join(', ')],
    ['upstream', (a.context.upstream ?? []).join(', ') || '(none)'],
    ['context', a.context.include.join(' ')],
  ];
  if (a.context.exclude?.length) rows.push(['excludes', a.context.exclude.join(' ')]);
  if (a.context.max_bytes !== undefined) rows.push(['max bytes', String(a.context.max_bytes)]);
  if (a.source) rows.push(['file', a.source]);
  const head = rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join('\n');
  return `${head}\n\n${a.description}\n\n${a.prompt}\n`;
}
