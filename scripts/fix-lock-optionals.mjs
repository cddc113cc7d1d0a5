// Adds lockfile entries for platform-specific optional packages that `npm install` left out
// (the registry this project installs from does not serve every platform build, so npm skips
// them when it writes the lock, and `npm ci` then refuses the lock as out of sync). Each entry
// carries its os/cpu, so `npm ci` skips it on other platforms without fetching anything.
// Run after changing dependencies: `node scripts/fix-lock-optionals.mjs`.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

function missing() {
  let out = '';
  try {
    out = execFileSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  return [...out.matchAll(/Missing: (@?[^@\s]+)@\S* from lock file/g)].map((m) => m[1]);
}

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'];
const CPU = { arm64: 'arm64', aarch64: 'arm64', x64: 'x64', ia32: 'ia32', arm: 'arm', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x', mips64el: 'mips64el' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  const libc = parts.includes('musl') ? 'musl' : parts.includes('gnu') || parts.includes('gnueabihf') ? 'glibc' : undefined;
  return { os, cpu, libc };
}

const names = missing();
if (names.length === 0) {
  console.log('package-lock.json: nothing missing');
  process.exit(0);
}
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
let added = 0;
for (const name of names) {
  const parent = Object.entries(lock.packages).find(([, p]) => p.optionalDependencies && name in p.optionalDependencies);
  if (!parent) throw new Error(`no package declares ${name} as optional`);
  const version = parent[1].optionalDependencies[name];
  const { os, cpu, libc } = platformOf(name);
  if (!os || !cpu) throw new Error(`cannot tell the platform of ${name}`);
  const key = lock.packages[`node_modules/${name}`] ? `${parent[0]}/node_modules/${name}` : `node_modules/${name}`;
  lock.packages[key] = { version, cpu: [cpu], ...(lock.packages[parent[0]].dev ? { dev: true } : {}), license: 'MIT', optional: true, os: [os], ...(libc ? { libc: [libc] } : {}) };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform-specific optional entries`);
const left = missing();
if (left.length) throw new Error(`still missing: ${left.join(', ')}`);
