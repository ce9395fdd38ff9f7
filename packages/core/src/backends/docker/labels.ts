/**
 * Labels lambda-testkit puts on what it creates in the engine. Containers carry the run and the
 * owning process, so a later run (or `lambda-testkit clean`) can tell leftovers of a dead run from
 * the containers of a live one. Images carry their content hash, so a rebuild can be skipped.
 *
 * Image labels use a different prefix on purpose: a container inherits its image's labels, and a
 * container somebody started by hand from the local image must not look like one of ours.
 */
import { readFileSync } from 'node:fs';

const PREFIX = 'dev.lambda-testkit';

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

export const ImageLabels = {
  hash: `${PREFIX}.image.hash`,
  builder: `${PREFIX}.image.builder`,
  nodeVersion: `${PREFIX}.image.node-version`,
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
