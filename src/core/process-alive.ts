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

let bootTimeMs: number | undefined;
/** When this machine booted (ms since the epoch, to the second), from /proc/stat; undefined without it. */
function bootedAt(): number | undefined {
  if (bootTimeMs === undefined) {
    try {
      const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
      bootTimeMs = m ? Number(m[1]) * 1000 : NaN;
    } catch {
      bootTimeMs = NaN;
    }
  }
  return Number.isNaN(bootTimeMs) ? undefined : bootTimeMs;
}

/**
 * When a process started (ms since the epoch, within about a second), from /proc; undefined where
 * there is no /proc. Start times are in clock ticks after boot: 100 a second on Linux (USER_HZ,
 * which Node cannot ask sysconf for; it is 100 on every architecture Node runs on).
 */
export function processStartedAt(pid: number): number | undefined {
  const st = procStat(pid);
  const boot = bootedAt();
  return st && boot !== undefined ? boot + Number(st.startTicks) * 10 : undefined;
}

/** Slack for `processStartedAt`: the boot time is whole seconds. */
const START_SLACK_MS = 2000;

/**
 * Whether the process a record names (pid, and identity when it has one) is still that process,
 * running. A record without an identity (written by an older build) is that process only if the
 * pid's process started before `writtenAt` (the record's own time): one started later got the pid
 * after the writer was gone (a reboot, a crash and pid reuse), and must not be taken for it, let
 * alone be stopped.
 */
export function isSameProcess(pid: number, identity: string | undefined, writtenAt?: number): boolean {
  if (!isAlive(pid)) return false;
  if (!identity) {
    if (writtenAt === undefined || !Number.isFinite(writtenAt)) return true;
    const started = processStartedAt(pid);
    return started === undefined || started <= writtenAt + START_SLACK_MS;
  }
  const now = processIdentity(pid);
  return now === undefined || now === identity;
}
