import { createHash, randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAlive, processIdentity } from './process-alive.js';

/**
 * Where this process's pids mean something: the kernel's boot and the pid namespace. Two owners
 * with the same scope can be checked with /proc; any other owner only by its lease. Empty where
 * there is no /proc.
 */
function pidScope(): string {
  const identity = processIdentity();
  if (!identity) return '';
  let ns = '';
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
  const boot = identity.slice(0, identity.lastIndexOf(':'));
  return createHash('sha256').update(`${boot}\n${ns}`).digest('hex').slice(0, 10);
}

function startTicks(pid: number): string | undefined {
  const identity = processIdentity(pid);
  return identity === undefined ? undefined : identity.slice(identity.lastIndexOf(':') + 1);
}

let scope: string | undefined;
const localScope = (): string => (scope ??= pidScope());

/**
 * This engine's owner name: `host:pid:<scope>.<start ticks>.<random>`. The random part keeps two
 * engines of one process apart (tests); scope and start time let a restarted daemon on the same
 * machine see at once that the process named is gone (`ownerGoneHere`).
 */
export function newOwnerId(): string {
  const rand = randomBytes(3).toString('hex');
  return `${hostname()}:${process.pid}:${localScope()}.${startTicks(process.pid) ?? ''}.${rand}`;
}

/**
 * Whether the owner named is a process of this machine and pid namespace that has ended (killed,
 * crashed): its lease need not be waited out. False whenever that cannot be known for sure
 * (another machine or container, an owner name of an older version, no /proc).
 */
export function ownerGoneHere(owner: string): boolean {
  const [, pidText, tag] = owner.split(':');
  const [ownerScope, ticks] = (tag ?? '').split('.');
  const here = localScope();
  if (!here || ownerScope !== here || !ticks) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!isAlive(pid)) return true;
  const now = startTicks(pid);
  return now !== undefined && now !== ticks;
}
