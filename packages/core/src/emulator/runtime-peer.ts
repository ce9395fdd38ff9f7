/**
 * Which process is on the other end of a Runtime API connection. Only the runtime the emulator
 * started (its process group: the runtime client and the handler's own children) may take events
 * and answer them; any other process on the machine is refused (docs/security.md#instances-and-the-runtime-api).
 *
 * Why by process and not by a header: AWS's aws-lambda-ric sends no custom header, and a secret in
 * the runtime's environment would be readable by the handler anyway. The kernel knows who holds
 * each socket: on Linux, `/proc/net/tcp` maps the peer's address to a socket inode, and
 * `/proc/<pid>/fd` shows which processes hold that inode. Elsewhere (no `/proc`), the answer is
 * `unknown` and the caller decides (the emulator then relies on refusing a second `/next`).
 *
 * One read is asynchronous, the rest synchronous. `/proc/net/tcp` costs the kernel a few ms whatever
 * the number of connections (it walks the whole TCP hash table, sized by the machine's memory: 3.8 ms
 * on the 2-CPU, 24 GiB development machine), so it is read off the event loop, which also serves the
 * pool and every other instance's Runtime API in the process backend, and the checks that ask at
 * the same moment (a prewarm, a burst of cold starts) share one read. The fd scans after it are a few
 * dozen reads of kernel tables (no disk) where a chain of awaits would cost more than it saves on a
 * loaded machine, so they stay synchronous.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export type PeerVerdict = 'runtime' | 'other' | 'unknown';

/** `0100007F:1F90` → port 8080 (the address part is ignored: both ends are on 127.0.0.1). */
function portOf(hexAddress: string | undefined): number {
  return Number.parseInt(hexAddress?.split(':')[1] ?? '', 16);
}

let reading: Promise<string | undefined> | undefined;
let queued: Promise<string | undefined> | undefined;

function readTable(): Promise<string | undefined> {
  const read = readFile('/proc/net/tcp', 'latin1').catch(() => undefined);
  reading = read;
  void read.then(() => {
    if (reading === read) reading = undefined;
  });
  return read;
}

/**
 * `/proc/net/tcp` as the kernel lists it at or after this call, never before: a read already under
 * way may have begun before the caller's connection was accepted, so callers that come during one
 * share the read that starts when it ends. Undefined when it cannot be read (not Linux, no /proc).
 */
function freshTcpTable(): Promise<string | undefined> {
  if (!reading) return readTable();
  queued ??= reading.then(() => {
    queued = undefined;
    return readTable();
  });
  return queued;
}

/**
 * The inode and uid of the socket whose local port is `peerPort` and remote port `serverPort`,
 * i.e. the client side of a connection to our server, in `table` (IPv4: the Runtime API binds
 * 127.0.0.1 only). Undefined when the table has no such line.
 */
function clientSocket(
  table: string,
  peerPort: number,
  serverPort: number,
): { inode: string; uid: number } | undefined {
  for (const line of table.split('\n').slice(1)) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
    const f = line.trim().split(/\s+/);
    if (portOf(f[1]) === peerPort && portOf(f[2]) === serverPort) {
      return { inode: f[9] ?? '', uid: Number(f[7]) };
    }
  }
  return undefined;
}

/** The pids whose process group is `pgid` (field 5 of `/proc/<pid>/stat`, after the `(comm)`). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const pid of list('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = readOr(`/proc/${pid}/stat`, '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) members.push(Number(pid));
  }
  return members;
}

function holdsSocket(pid: number, inode: string): boolean {
  const wanted = `socket:[${inode}]`;
  return list(`/proc/${pid}/fd`).some((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === wanted;
    } catch {
      return false; // closed meanwhile
    }
  });
}

/** A file's text, or `fallback` when it cannot be read (gone, not permitted, no /proc). */
function readOr<T>(path: string, fallback: T): string | T {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Whether the client at `peerPort` of a connection to our `serverPort` is held by a process of
 * group `pgid`. `unknown` when the kernel tables cannot be read here (not Linux, a restricted `/proc`).
 * A connection the table does not list (closed meanwhile) is `other`: a read that began after it was
 * accepted lists every connection still open.
 */
export async function peerOfConnection(
  peerPort: number,
  serverPort: number,
  pgid: number | undefined,
  runtimeUid?: number,
): Promise<PeerVerdict> {
  const table = await freshTcpTable();
  if (table === undefined) return 'unknown';
  const socket = clientSocket(table, peerPort, serverPort);
  if (!socket || pgid === undefined) return 'other';
  // A runtime run as another user (LAMBDA_TESTKIT_RUNTIME_USER, in the Docker backend's containers):
  // its open files are closed to an emulator without CAP_SYS_PTRACE, so its user is what is checked.
  if (runtimeUid !== undefined) return socket.uid === runtimeUid ? 'runtime' : 'other';
  // Another user's socket cannot be the runtime's (it runs as the emulator's user).
  if (process.getuid && socket.uid !== process.getuid()) return 'other';
  // The group leader is the runtime client itself, which makes the calls: look there first, and
  // through the rest of the group (the handler's children) only when it does not hold the socket.
  if (holdsSocket(pgid, socket.inode)) return 'runtime';
  for (const pid of groupMembers(pgid)) {
    if (pid !== pgid && holdsSocket(pid, socket.inode)) return 'runtime';
  }
  return 'other';
}
