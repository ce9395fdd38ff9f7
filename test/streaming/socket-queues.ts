/**
 * How many bytes the kernel holds in the TCP queues of this process and its descendants (the
 * emulator and the runtime of a process-backend instance), from Linux's /proc/net/tcp: for each
 * socket, the send queue (written by the application, not yet taken by the peer) and the receive
 * queue (arrived, not yet read by the application). A byte on a loopback hop is in exactly one of
 * them, so their sum over both ends of every connection is what the kernel buffers between the
 * processes. What a stream holds beyond that is in the processes' own memory.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Pids of `root` and every process below it. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** Inodes of the sockets the processes have open. */
function socketInodes(pids: number[]): Set<string> {
  const inodes = new Set<string>();
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
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/** Bytes in the send and receive queues of the TCP sockets of this process tree. */
export function queuedTcpBytes(root = process.pid): number {
  const inodes = socketInodes(processTree(root));
  let total = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode
    if (fields.length < 10 || !inodes.has(fields[9]!)) continue;
    const [tx, rx] = fields[4]!.split(':').map((hex) => Number.parseInt(hex, 16));
    total += (tx ?? 0) + (rx ?? 0);
  }
  return total;
}
