/**
 * What a zip entry is on a UNIX filesystem, read from its external attributes. Both ways a sandbox
 * gets its files (unpacked into folders for the process backend, re-packed as a tar for a container)
 * must agree on it: the executable bit of a `bootstrap` and layer symlinks survive only this way.
 */
import type yauzl from 'yauzl';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** `versionMadeBy` high byte 3 = UNIX: only then do external attributes carry a mode (APPNOTE 4.4.2). */
const MADE_BY_UNIX = 3;

export interface ZipEntryKind {
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits (0o7777) the zip recorded; 0 when it recorded none (a zip made elsewhere). */
  permissions: number;
}

export function zipEntryKind(entry: yauzl.Entry): ZipEntryKind {
  const unixMode =
    entry.versionMadeBy >>> 8 === MADE_BY_UNIX ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
  const permissions = unixMode & 0o7777;
  if (entry.fileName.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR)
    return { type: 'directory', permissions };
  if ((unixMode & S_IFMT) === S_IFLNK) return { type: 'symlink', permissions };
  return { type: 'file', permissions };
}
