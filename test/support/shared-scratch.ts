/**
 * A scratch folder that a test and a handler on the process backend both see at the same path. The
 * system temp folder will not do: each confined runtime has its own `/tmp` (and `/opt`, `/var`), so a
 * file the handler writes there never reaches the test (docs/emulator.md#file-system). The folder lies
 * in the repository's git-ignored `.lambda-testkit/`, which the namespace leaves as it is, unless the
 * checkout itself lies under one of those folders (a CI clone in /tmp): then in the user's home.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders a confined runtime sees as its own, not the host's (backends/process/confine.ts). */
const CONFINED_PREFIXES = ['/tmp', '/var', '/opt'];
const isConfined = (path: string) => CONFINED_PREFIXES.some((p) => path === p || path.startsWith(p + sep));

const candidates = [
  join(fileURLToPath(new URL('../..', import.meta.url)), '.lambda-testkit', 'test-scratch'),
  join(homedir(), '.cache', 'lambda-testkit', 'test-scratch'),
];
const base = candidates.find((path) => !isConfined(path));

/** A fresh folder named `<prefix>XXXXXX`; `remove()` deletes it. */
export function sharedScratch(prefix: string): { path: string; remove: () => void } {
  if (base === undefined) {
    throw new Error(
      `No scratch folder that a confined handler shares with the test: both ${candidates.join(' and ')} ` +
        `lie under ${CONFINED_PREFIXES.join(', ')}. Move the checkout or set HOME elsewhere.`,
    );
  }
  mkdirSync(base, { recursive: true });
  const path = mkdtempSync(join(base, prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
