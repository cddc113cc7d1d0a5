/**
 * Helpers the gateway benchmarks share: starting the processes they measure, reading a process's
 * CPU time, and an open-loop load at a fixed rate.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Child {
  proc: ChildProcess;
  url: string;
}

/**
 * Starts `node <args>` and resolves with its URL once it prints "Listening on <url>"; rejects if it
 * exits first. `onLine`: every stdout line (e.g. V8's --trace-gc output), before and after that.
 */
export function start(args: string[], env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let listening = false;
    let partial = '';
    proc.stdout?.on('data', (d: Buffer) => {
      if (onLine) {
        const lines = (partial + d.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      }
      if (listening) return;
      out += d.toString();
      const m = /Listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        listening = true;
        resolve({ proc, url: m[1] as string });
      }
    });
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)));
  });
}

/** The fake upstream of a checkout (its built `dist/`), in a process of its own, recording nothing. */
export function startFakeUpstream(root: string, env: NodeJS.ProcessEnv): Promise<Child> {
  const module = pathToFileURL(join(root, 'dist', 'fake-provider', 'server.js')).href;
  return start(['--input-type=module', '-e', `const m = await import(${JSON.stringify(module)}); const f = await m.startFakeProvider({ port: 0, recordLimit: 0 }); console.log('Listening on ' + f.url);`], env);
}

/**
 * CPU time (user + system) a process, or one of its threads (`tid`), has used so far, in
 * microseconds (Linux /proc, clock ticks of 10 ms; NaN elsewhere).
 */
export function cpuMicros(pid: number | undefined, tid?: number): number {
  if (pid === undefined) return NaN;
  try {
    const f = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime (fields 14 and 15)
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return NaN;
  }
}

/**
 * An open-loop load: `rate` requests a second for `seconds`, sent on a 1 ms timer whatever the
 * answers take (a closed loop would slow down with the server and hide its queueing). `send`
 * makes one request and resolves with its status once the whole answer is read. Gives the latency
 * of every answered request (ms, sub-millisecond timing), how many failed (a status other than
 * 200, or no answer) and the seconds it took.
 */
export async function openLoop(rate: number, seconds: number, send: () => Promise<number>): Promise<{ latencies: number[]; failed: number; seconds: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const total = Math.round(rate * seconds);
  let sent = 0;
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  await new Promise<void>((done) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      for (; sent < due; sent++) {
        const s = performance.now();
        inflight.push(
          send().then(
            (status) => {
              latencies.push(performance.now() - s);
              if (status !== 200) failed++;
            },
            () => void failed++,
          ),
        );
      }
      if (sent >= total) done();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inflight);
  return { latencies, failed, seconds: (performance.now() - t0) / 1000 };
}
