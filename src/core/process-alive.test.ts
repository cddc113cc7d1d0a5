import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isAlive, isSameProcess, processIdentity } from './process-alive.js';

describe('isAlive / isSameProcess', () => {
  it('a zombie (exited, never reaped by its parent) is not alive, though kill(pid, 0) still finds it', async () => {
    // `sleep 0` ends at once; its parent execs into `sleep 5`, which never reaps it
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer];
      const zombie = Number(line.toString().trim());
      await new Promise((r) => setTimeout(r, 200));
      expect(() => process.kill(zombie, 0)).not.toThrow();
      expect(isAlive(zombie)).toBe(false);
      expect(isAlive(parent.pid as number)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a record names the same process only while pid and identity both match (a pid that came back is another process)', () => {
    const me = processIdentity();
    expect(me).toMatch(/^[0-9a-f-]+:\d+$/);
    expect(isSameProcess(process.pid, me)).toBe(true);
    expect(isSameProcess(process.pid, undefined)).toBe(true);
    expect(isSameProcess(process.pid, 'another-boot:1')).toBe(false);
    expect(isSameProcess(2 ** 22 + 7, undefined)).toBe(false);
  });
});
