import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { processIdentity } from '../core/process-alive.js';
import { useTempCcoHome } from '../testing/temp-home.js';
import { main } from './daemon-cmd.js';

describe('cco daemon start while that daemon runs', () => {
  const home = useTempCcoHome();

  /** `cco daemon start --port <port>` against the port's lock record (this live process stands in for the daemon); its stderr. */
  async function startOn(port: number): Promise<{ code: number; stderr: string }> {
    mkdirSync(home.env.CCO_RUNTIME_DIR as string, { recursive: true });
    writeFileSync(join(home.env.CCO_RUNTIME_DIR as string, `daemon-${port}.json`), JSON.stringify({ pid: process.pid, identity: processIdentity(), port, host: '127.0.0.1', startedAt: Date.now(), version: 'test', logFile: '' }));
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    try {
      return { code: await main(['start', '--port', String(port)]), stderr };
    } finally {
      spy.mockRestore();
    }
  }

  it('names the restart for that port: `cco daemon restart --port N` (without it, restart acts on port 3000)', async () => {
    const r = await startOn(3740);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Daemon already running on port 3740 (PID ${process.pid}). Use \`cco daemon restart --port 3740\``);
    // the default port needs no flag
    expect((await startOn(3000)).stderr).toContain('Use `cco daemon restart` or another --port');
  });
});
