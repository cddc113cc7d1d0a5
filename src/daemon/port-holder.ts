import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface PortHolder {
  pid: number;
  command: string;
}

/**
 * Who is listening on a TCP port (Linux: /proc/net/tcp{,6} gives the socket inode, then the
 * process whose fd points at it). Undefined when it cannot be told (another OS, another user).
 */
export function findPortHolder(port: number): PortHolder | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const state = cols[3];
      const inode = cols[9];
      if (!local || state !== '0A' || !inode) continue; // 0A = LISTEN
      const p = parseInt(local.split(':')[1] ?? '', 16);
      if (p === port) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1] as string)) return { pid: Number(pid), command: commandOf(pid) };
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

function commandOf(pid: string): string {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (cmdline.length) return cmdline.slice(0, 3).join(' ');
  } catch {
    // fall through
  }
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Who holds `port` and what to do about it, for the messages below: ` by <command> (PID n)` and
 * the advice that goes before "use a different port: ...".
 */
export function portHolderAdvice(port: number, flagHint: string): { who: string; fix: string } {
  const holder = findPortHolder(port);
  const other = `use a different port: ${flagHint.replaceAll('{port}', String(port + 2))}`;
  return holder
    ? { who: ` by ${holder.command} (PID ${holder.pid})`, fix: `Stop it (kill ${holder.pid}) or ${other}` }
    : { who: '', fix: `Find the holder with \`lsof -i :${port}\` or ${other}` };
}

/**
 * The seeds' "port already in use" message ("Failed to bind to address 127.0.0.1:3000"): who
 * holds it and what to do.
 */
export function portInUseMessage(port: number, what: string, flagHint: string, host = '127.0.0.1'): string {
  const { who, fix } = portHolderAdvice(port, flagHint);
  return `Failed to bind to address ${host}:${port}. Port ${port} is already in use${who}: Address already in use. ${fix}. (${what})`;
}
