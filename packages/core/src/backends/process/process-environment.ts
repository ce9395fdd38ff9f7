/**
 * The environment the emulator of a process-backend instance starts with.
 *
 * Built from scratch, not from `process.env`: the developer's shell holds real AWS credentials,
 * profiles, tokens of other tools… none of which a Lambda sandbox has. Only what a sandbox needs
 * is passed (docs/lambda-apis.md#sandbox-environment), with the base image's paths pointing at the
 * folders the runtime sees: Lambda's own (`/var/task`, `/opt`, `/tmp`) in a confined runtime (confine.ts),
 * the instance's temp folders otherwise.
 */
import { delimiter, dirname, join } from 'node:path';
import type { LaunchContext } from '../../backend.ts';
import { inspectEnvironment } from '../../emulator/protocol.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import { sandboxEnvironment } from '../../sandbox-env.ts';

/** Folders of one instance, as its runtime sees them (see `instanceLayout` in `run-root.ts`, confine.ts). */
export interface SandboxFolders {
  /** `/var/task`: the unpacked code. */
  task: string;
  /** `/opt`: the merged layers. */
  opt: string;
  /** `/var/runtime`. */
  runtime: string;
  /** `/tmp`: the instance's writable scratch folder (also its HOME). */
  tmp: string;
}

/** Variables read from the host, and only these: what a process needs to start on this machine. */
const HOST_PASSTHROUGH = ['SYSTEMROOT', 'WINDIR'] as const;

export function processEnvironment(
  fn: ResolvedFunction,
  context: Pick<LaunchContext, 'region' | 'accountId' | 'environment'>,
  folders: SandboxFolders,
  nodeMajor: number,
  host: NodeJS.ProcessEnv = process.env,
  nodeBin: string = dirname(process.execPath),
): Record<string, string> {
  const path = (...parts: Array<string | undefined>) => parts.filter(Boolean).join(delimiter);
  const base: Record<string, string> = {
    // /var/lang/bin comes first in Lambda's PATH: here, the folder of the Node that runs the emulator.
    PATH: path(nodeBin, host.PATH, join(folders.opt, 'bin')),
    LD_LIBRARY_PATH: path(
      host.LD_LIBRARY_PATH,
      folders.task,
      join(folders.task, 'lib'),
      join(folders.opt, 'lib'),
    ),
    // As the Node base image's bootstrap sets it (docs/lambda-apis.md#sandbox-environment), rooted at our
    // folders.
    NODE_PATH: path(
      join(folders.opt, 'nodejs', `node${nodeMajor}`, 'node_modules'),
      join(folders.opt, 'nodejs', 'node_modules'),
      folders.task,
    ),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    // No HOME of the developer: the AWS SDK would read ~/.aws/credentials and ~/.aws/config from it.
    HOME: folders.tmp,
    TMPDIR: folders.tmp,
  };
  for (const key of HOST_PASSTHROUGH) {
    const value = host[key];
    if (value !== undefined) base[key] = value;
  }
  const env: Record<string, string> = {
    ...base,
    // The function's variables (inside) may replace the unreserved ones above, as in Lambda.
    ...sandboxEnvironment(fn, context),
    // Reserved: the user cannot move the task root.
    LAMBDA_TASK_ROOT: folders.task,
    LAMBDA_RUNTIME_DIR: folders.runtime,
    // Read by the emulator to set AWS_EXECUTION_ENV and the runtime's callback rules.
    LAMBDA_TESTKIT_RUNTIME: fn.runtime,
  };
  // The runtime's NODE_OPTIONS pass the emulator (a Node process itself) under another name, which
  // the emulator turns back into NODE_OPTIONS for the runtime (emulator/config.ts).
  const nodeOptions = env.NODE_OPTIONS;
  delete env.NODE_OPTIONS;
  if (nodeOptions) env.LAMBDA_TESTKIT_NODE_OPTIONS = nodeOptions;
  // A debugged function: the emulator's inspector proxy on a port the system picks (0), so
  // instances never clash; the runtime's own inspector sits behind it.
  if (fn.debug) Object.assign(env, inspectEnvironment('127.0.0.1:0', fn.debug));
  return env;
}
