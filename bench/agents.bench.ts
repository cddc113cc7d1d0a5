/**
 * Agent catalog load time, as the daemon pays it at every start: a fresh Node process imports
 * the built loader and loads the 119 definitions, (a) parsing every file (no cache), (b) from
 * the parsed-catalog cache. Baseline, measured in the same run: a fresh process that only
 * reads the same files (no parsing). Each scenario runs in 7 fresh processes; medians shown.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const CATALOG_JS = join(ROOT, 'dist', 'agents', 'catalog.js');
const RUNS = 7;

/** Runs `code` in a fresh Node process; returns [wall ms, CPU ms] of the measured part. */
function child(code: string): [number, number] {
  const wrapped = `const t=performance.now();const c0=process.cpuUsage();${code};const u=process.cpuUsage(c0);console.log(performance.now()-t, (u.user+u.system)/1000)`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', wrapped], { cwd: ROOT, encoding: 'utf8' });
  const [wall, cpu] = out.trim().split(' ').map(Number);
  return [wall ?? NaN, cpu ?? NaN];
}

function scenario(code: string): [number, number] {
  const runs = Array.from({ length: RUNS }, () => child(code));
  return [median(runs.map((r) => r[0])), median(runs.map((r) => r[1]))];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export async function run(): Promise<void> {
  if (!existsSync(CATALOG_JS)) throw new Error('dist/ is missing: run npm run build first');
  const agentsDir = join(ROOT, 'agents');
  const cacheDir = mkdtempSync(join(tmpdir(), 'cco-bench-agents-'));
  try {
    const baseline = `const {readdirSync,readFileSync}=await import('node:fs');for(const f of readdirSync(${JSON.stringify(agentsDir)}))readFileSync(${JSON.stringify(agentsDir)}+'/'+f,'utf8')`;
    const load = (cache: string | false) =>
      `const m=await import(${JSON.stringify(CATALOG_JS)});const c=await m.loadAgentCatalog(undefined,{cacheDir:${JSON.stringify(cache)}});if(c.list().length!==119)throw new Error('count')`;
    child(load(cacheDir)); // warm the cache once
    const rows: [string, [number, number]][] = [
      ['read the 119 files only (baseline)', scenario(baseline)],
      ['load, parse + validate every file (no cache)', scenario(load(false))],
      ['load from the parsed-catalog cache', scenario(load(cacheDir))],
    ];
    const [baseWall, baseCpu] = rows[0]?.[1] ?? [1, 1];
    console.log('| scenario (fresh process, median of 7) | wall ms | CPU ms | × baseline (wall) | × baseline (CPU) |');
    console.log('|---|---:|---:|---:|---:|');
    for (const [name, [wall, cpu]] of rows) console.log(`| ${name} | ${wall.toFixed(1)} | ${cpu.toFixed(1)} | ${(wall / baseWall).toFixed(1)} | ${(cpu / baseCpu).toFixed(1)} |`);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
