import { readFileSync } from 'node:fs';

/** A process's state letter and start time (clock ticks after boot), from /proc; undefined where there is no /proc. */
function procStat(pid: number): { state: string; startTicks: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name (field 2) is in parentheses and may hold spaces or ')': fields after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTicks = fields[19];
  return state && startTicks ? { state, startTicks } : undefined;
}

let bootId: string | undefined;
const currentBoot = (): string => {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = '';
    }
  }
  return bootId;
};

/**
 * Whether a process with this pid exists and runs (EPERM: it exists, owned by someone else). A
 * zombie — killed, not yet reaped by its parent — is not running: it holds no port and no file,
 * and where PID 1 does not reap (a container) it never goes away.
 */
export function isAlive(pid: number): boolean {
  // 0 and negative pids address process groups: never "a process that is alive".
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const st = procStat(pid);
  return !st || (st.state !== 'Z' && st.state !== 'X');
}

/**
 * Which process this is, beyond its pid: boot id and start time. Pids come back (PID 1 in every
 * container start, and any pid after enough processes), so a record naming a pid is only about
 * the process that wrote it when this matches too. Undefined where there is no /proc.
 */
export function processIdentity(pid: number = process.pid): string | undefined {
  const st = procStat(pid);
  return st ? `${currentBoot()}:${st.startTicks}` : undefined;
}

/** Whether the process a record names (pid, and identity when it has one) is still that process, running. */
export function isSameProcess(pid: number, identity: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (!identity) return true;
  const now = processIdentity(pid);
  return now === undefined || now === identity;
}
