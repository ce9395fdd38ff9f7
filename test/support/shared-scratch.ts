/**
 * A scratch folder that a test and a handler on the process backend both see at the same path. The
 * system temp folder will not do: each confined runtime has its own `/tmp` (and `/opt`, `/var`), so a
 * file the handler writes there never reaches the test (docs/emulator.md#file-system). This folder lies
 * in the repository's git-ignored `.lambda-testkit/`, which the namespace leaves as it is.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const base = join(fileURLToPath(new URL('../..', import.meta.url)), '.lambda-testkit', 'test-scratch');

/** A fresh folder named `<prefix>XXXXXX`; `remove()` deletes it. */
export function sharedScratch(prefix: string): { path: string; remove: () => void } {
  mkdirSync(base, { recursive: true });
  const path = mkdtempSync(join(base, prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
