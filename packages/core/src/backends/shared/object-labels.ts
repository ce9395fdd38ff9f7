/**
 * The labels lambda-testkit puts on what a container backend creates (Docker containers, Kubernetes
 * Pods and ConfigMaps): the library and its version, the run, the instance, the function, its deploy
 * id and the owning process, so that a later run (or `lambda-testkit clean`) can tell leftovers of a
 * dead run from the objects of a live one.
 */
import { readFileSync } from 'node:fs';

export const LABEL_PREFIX = 'dev.lambda-testkit';
const PREFIX = LABEL_PREFIX;

export const ContainerLabels = {
  library: `${PREFIX}.library`,
  version: `${PREFIX}.version`,
  runId: `${PREFIX}.run-id`,
  instanceId: `${PREFIX}.instance-id`,
  functionName: `${PREFIX}.function`,
  deployId: `${PREFIX}.deploy-id`,
  ownerPid: `${PREFIX}.owner.pid`,
  /** `/proc/<pid>/stat` start time of the owner (Linux): a reused pid is not mistaken for the owner. */
  ownerStartTime: `${PREFIX}.owner.start-time`,
  ownerHost: `${PREFIX}.owner.host`,
  /** `/proc/sys/kernel/random/boot_id`: after a reboot no owner of an earlier boot can be alive. */
  ownerBootId: `${PREFIX}.owner.boot-id`,
} as const;

export const LIBRARY_NAME = 'lambda-testkit';

/** The version of @lambda-testkit/core (same relative path from `src/` and `dist/`). */
export const LIBRARY_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();
