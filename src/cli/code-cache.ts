import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { writeFileAtomic } from '../core/atomic-file.js';
import { resolvePaths } from '../config/paths.js';

/** What a bundled command exports: its `main`, told when it is ready (a good time to save the cache). */
interface BundledCommand {
  main(args: string[], hooks?: RunHooks): Promise<number | void>;
}

/** Given to a command loaded from a bundle: when it is ready, and how its code was loaded. */
export interface RunHooks {
  ready?: () => void;
  /** hit: compiled code came from the cache; miss: none yet; rejected: V8 refused it (other Node or flags). */
  codeCache?: 'hit' | 'miss' | 'rejected';
}

/**
 * Loads a CommonJS bundle of one command (built next to this chunk by scripts/bundle.mjs) with a
 * V8 code cache, the way Node 22's `module.enableCompileCache()` does for modules (Node 20 has no
 * such API, and no code cache for ES modules at all). Parsing and compiling the daemon's code is
 * about half of its cold start; with the cache, V8 deserializes the functions it compiled last
 * time instead. The cache lives in `<CCO_HOME>/cache`, is named after the bundle and the Node
 * version, and is (re)written once the command reports ready whenever it was missing or V8
 * rejected it (another Node or other V8 flags). Returns undefined when there is no bundle
 * (running the unbundled `dist/cli`), so the caller imports the ES module instead.
 */
export function loadCachedBundle(name: string, env: NodeJS.ProcessEnv = process.env): BundledCommand | undefined {
  const file = fileURLToPath(new URL(`./${name}`, import.meta.url));
  if (!existsSync(file)) return undefined;
  const st = statSync(file);
  const cacheDir = join(resolvePaths(env).home, 'cache');
  const stem = name.replace(/\W/g, '_');
  const cacheFile = join(cacheDir, `${stem}-${process.version}-${process.arch}-${st.size}-${Math.floor(st.mtimeMs)}.v8cache`);
  let cachedData: Buffer | undefined;
  let fromOwnCache = false;
  // The user's own cache, else the one the build seeded beside the bundle (scripts/seed-code-cache.mjs).
  for (const candidate of env.CCO_NO_SEED_CACHE ? [cacheFile] : [cacheFile, `${file}.v8cache`]) {
    try {
      cachedData = readFileSync(candidate);
      fromOwnCache = candidate === cacheFile;
      break;
    } catch {
      // not there: try the next, else compile from source and save the cache when ready
    }
  }
  // esbuild emits ASCII, so latin1 makes the one-byte string V8 wants without UTF-8 decoding.
  const source = readFileSync(file, 'latin1');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const codeCache = !cachedData ? 'miss' : script.cachedDataRejected === true ? 'rejected' : 'hit';
  const mod = { exports: {} as BundledCommand };
  (script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, join(file, '..'));
  const command = mod.exports;
  return {
    main: (args) =>
      command.main(args, {
        codeCache,
        ready: () => {
          // A hit on the seed still saves the user's own cache: it also holds what this machine compiled.
          if (codeCache === 'hit' && fromOwnCache) return;
          // After start-up work is done, so the cache holds every function start-up compiled.
          setTimeout(() => saveCache(script, cacheDir, cacheFile, stem), 500).unref();
        },
      }),
  };
}

function saveCache(script: vm.Script, dir: string, file: string, stem: string): void {
  try {
    writeFileAtomic(file, script.createCachedData(), 0o600, { durable: false });
    for (const old of readdirSync(dir)) {
      if (old.startsWith(`${stem}-`) && old.endsWith('.v8cache') && join(dir, old) !== file) rmSync(join(dir, old), { force: true });
    }
  } catch {
    // an unwritable home only costs the next start its speed
  }
}
