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
  for (const socket of listeningSockets() ?? []) if (socket.port === port) inodes.add(socket.inode);
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

/** The TCP sockets listening on this machine (/proc/net/tcp{,6}); undefined when /proc cannot tell. */
function listeningSockets(): { port: number; inode: string }[] | undefined {
  const out: { port: number; inode: string }[] = [];
  let read = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
      read = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const state = cols[3];
      const inode = cols[9];
      if (!local || state !== '0A' || !inode) continue; // 0A = LISTEN
      out.push({ port: parseInt(local.split(':')[1] ?? '', 16), inode });
    }
  }
  return read ? out : undefined;
}

/**
 * A port to suggest instead of a taken one: the first from `from` on that nothing listens on, and
 * for a daemon (`withSidecar`) whose next port is free too, since its sidecar asks for the
 * daemon's port + 1. Without /proc, `from` as it is.
 */
export function suggestFreePort(from: number, withSidecar: boolean): number {
  const sockets = listeningSockets();
  if (!sockets) return from;
  const taken = new Set(sockets.map((s) => s.port));
  const last = withSidecar ? 65534 : 65535;
  for (let p = from; p <= last && p < from + 200; p++) {
    if (!taken.has(p) && !(withSidecar && taken.has(p + 1))) return p;
  }
  return from;
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
 * The CCO daemon whose sidecar holds `port`: a `cco-daemon --port D` process listening on a port
 * other than D (the daemon listens on its own port and its sidecar's, nothing else).
 */
export function sidecarOwner(holder: PortHolder | undefined, port: number): { daemonPort: number; pid: number } | undefined {
  const m = /^cco-daemon --port (\d+)\b/.exec(holder?.command ?? '');
  if (!holder || !m) return undefined;
  const daemonPort = Number(m[1]);
  return daemonPort !== port ? { daemonPort, pid: holder.pid } : undefined;
}

/**
 * The CCO daemon that holds `port` as its own: a `cco-daemon --port <port>` process (or a
 * `cco-daemon` still starting, before it names its port). Not its sidecar's port (sidecarOwner).
 */
export function daemonOnPort(holder: PortHolder | undefined, port: number): { pid: number } | undefined {
  const m = /^cco-daemon(?: --port (\d+))?(?:\s|$)/.exec(holder?.command ?? '');
  if (!holder || !m) return undefined;
  return m[1] === undefined || Number(m[1]) === port ? { pid: holder.pid } : undefined;
}

/** ` by <who>` for "port N is in use", the fix, and for a sidecar's port the daemon it belongs to ("the CCO daemon on port 8100 (PID n)"). */
export interface PortAdvice {
  who: string;
  fix: string;
  sidecarOf?: string;
}

/**
 * Who holds `port` and what to do about it, for the messages below: ` by <command> (PID n)` and
 * the advice that goes before "use a different port: ...". A port held by a CCO daemon's sidecar
 * (the guide's "use a different port: 8101" beside a daemon on 8100) is named as that: the user
 * still wants that daemon, so it is never to be killed.
 * - `answeredAsSidecar`: the port's /health said it is a sidecar's (for when /proc cannot name the process);
 * - `forDaemon` (default): the port suggested is for a daemon, whose sidecar asks for the next one
 *   too (false for cco proxy and for the sidecar's own port).
 */
export function portHolderAdvice(port: number, flagHint: string, opts: { answeredAsSidecar?: boolean; forDaemon?: boolean } = {}): PortAdvice {
  const holder = findPortHolder(port);
  const owner = sidecarOwner(holder, port);
  const forDaemon = opts.forDaemon ?? true;
  if (owner || opts.answeredAsSidecar) {
    const suggested = flagHint.replaceAll('{port}', String(suggestFreePort(port + 1, forDaemon)));
    const daemon = owner ? `the CCO daemon on port ${owner.daemonPort} (PID ${owner.pid})` : 'a CCO daemon';
    const usual = !owner || owner.daemonPort + 1 === port ? "A daemon's sidecar takes the daemon's port + 1 by default. " : '';
    return {
      who: ` by the sidecar of ${daemon}`,
      fix: `${usual}Keep that daemon running and use another port${forDaemon ? ' (one whose next port is free too, for its own sidecar)' : ''}: ${suggested}`,
      sidecarOf: daemon,
    };
  }
  const other = `use a different port: ${flagHint.replaceAll('{port}', String(suggestFreePort(port + 2, forDaemon)))}`;
  return holder
    ? { who: ` by ${holder.command} (PID ${holder.pid})`, fix: `Stop it (kill ${holder.pid}) or ${other}` }
    : { who: '', fix: `Find the holder with \`lsof -i :${port}\` or ${other}` };
}

/**
 * The seeds' "port already in use" message ("Failed to bind to address 127.0.0.1:3000"): who
 * holds it and what to do.
 */
export function portInUseMessage(port: number, what: string, flagHint: string, host = '127.0.0.1'): string {
  const { who, fix } = portHolderAdvice(port, flagHint, { forDaemon: what === 'daemon' });
  return `Failed to bind to address ${host}:${port}. Port ${port} is already in use${who}: Address already in use. ${fix}. (${what})`;
}
