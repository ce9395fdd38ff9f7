/**
 * How a process-backend runtime is started: the one place that builds its command, for runtimes the
 * sandbox spawns at a cold start or restart and for spares started ahead (process-spares.ts). On
 * Linux the command is then started through the instance's mount-namespace launcher (confine.ts): by
 * the emulator for the runtimes it spawns (LAMBDA_TESTKIT_RUNTIME_WRAPPER), by the backend for spares.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandFor, type RuntimeCommand } from '../../emulator/runtime-process.ts';
import type { SandboxFolders } from './process-environment.ts';

/** Read (and dropped) by runtime-entry.ts: `1` when NODE_COMPILE_CACHE is the backend's (dropped too). */
export const COMPILE_CACHE_VARIABLE = 'LAMBDA_TESTKIT_COMPILE_CACHE';
/** Read (and dropped) by runtime-entry.ts: `1` makes the runtime wait for its function on stdin. */
export const SPARE_VARIABLE = 'LAMBDA_TESTKIT_SPARE';

/** runtime-entry next to this module: `.ts` when running from sources, `.js` when built. */
export function runtimeEntryPath(): string {
  const ext = extname(fileURLToPath(import.meta.url));
  return fileURLToPath(new URL(`./runtime-entry${ext}`, import.meta.url));
}

/**
 * The command of a runtime of the instance in `_folders`: lambda-testkit's runtime entry (which runs
 * the Node bootstrap) with this Node, or the user's `bootstrap` as the emulator would run it.
 */
export function runtimeCommand(bootstrap: string | undefined, _folders: SandboxFolders): RuntimeCommand {
  return commandFor(bootstrap ?? runtimeEntryPath());
}
