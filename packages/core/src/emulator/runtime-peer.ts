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
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

export type PeerVerdict = 'runtime' | 'other' | 'unknown';

/** `0100007F:1F90` → port 8080 (the address part is ignored: both ends are on 127.0.0.1). */
function portOf(hexAddress: string | undefined): number {
  return Number.parseInt(hexAddress?.split(':')[1] ?? '', 16);
}

/**
 * The inode and uid of the socket whose local port is `peerPort` and remote port `serverPort`,
 * i.e. the client side of a connection to our server, from `/proc/net/tcp` (IPv4: the Runtime API
 * binds 127.0.0.1 only). Undefined when the table cannot be read or has no such line.
 */
async function clientSocket(
  peerPort: number,
  serverPort: number,
): Promise<{ inode: string; uid: number } | undefined> {
  const table = await readFile('/proc/net/tcp', 'utf8').catch(() => undefined);
  if (table === undefined) return undefined;
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
async function groupMembers(pgid: number): Promise<number[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  const members: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) members.push(Number(pid));
    }),
  );
  return members;
}

async function holdsSocket(pid: number, inode: string): Promise<boolean> {
  const wanted = `socket:[${inode}]`;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === wanted) return true;
  }
  return false;
}

/**
 * Whether the client at `peerPort` of a connection to our `serverPort` is held by a process of
 * group `pgid`. `unknown` when the kernel tables cannot be read here (not Linux, a restricted `/proc`).
 */
export async function peerOfConnection(
  peerPort: number,
  serverPort: number,
  pgid: number | undefined,
): Promise<PeerVerdict> {
  const socket = await clientSocket(peerPort, serverPort);
  if (!socket) return 'unknown';
  // Another user's socket cannot be the runtime's (it runs as the emulator's user): no need to look further.
  if (process.getuid && socket.uid !== process.getuid()) return 'other';
  if (pgid === undefined) return 'other';
  // The group leader is the runtime client itself, which makes the calls: look there first, and
  // through the rest of the group (the handler's children) only when it does not hold the socket.
  if (await holdsSocket(pgid, socket.inode)) return 'runtime';
  for (const pid of await groupMembers(pgid)) {
    if (pid !== pgid && (await holdsSocket(pid, socket.inode))) return 'runtime';
  }
  return 'other';
}
