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
 * The seeds' "port already in use" message ("Failed to bind to address 127.0.0.1:3000"): who
 * holds it and what to do.
 */
export function portInUseMessage(port: number, what: string, flagHint: string, host = '127.0.0.1'): string {
  const holder = findPortHolder(port);
  const who = holder ? ` by ${holder.command} (PID ${holder.pid})` : '';
  const kill = holder ? ` Stop it (kill ${holder.pid}) or` : ' Find the holder with `lsof -i :' + port + '` or';
  return `Failed to bind to address ${host}:${port}. Port ${port} is already in use${who}: Address already in use.${kill} use a different port: ${flagHint.replace('{port}', String(port + 2))}. (${what})`;
}
