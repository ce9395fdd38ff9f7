/**
 * A Lambda-compatible Node image built locally, without pulling anything.
 *
 * Where no registry is reachable (air-gapped CI, this project's CI), the official
 * `public.ecr.aws/lambda/nodejs` images cannot be pulled. This module assembles a root filesystem
 * from the host instead: the host's Node binary and the shared libraries it links (found with
 * `ldd`), the host's `/bin/sh`, and lambda-testkit's built emulator + bootstrap. It imports that
 * as an image (`POST /images/create?fromSrc=-`, what `docker import` does) with the base image's
 * contract (docs/lambda-apis.md#base-image-contract): ENTRYPOINT `/lambda-entrypoint.sh`, WORKDIR
 * `/var/task`, `/var/runtime`, `/opt`, `/var/lang/bin/node`, and the same environment.
 *
 * The root filesystem is local-image-rootfs.ts, the import image-import.ts, the lock that lets one
 * of several processes build build-lock.ts.
 *
 * The image is labelled with a hash of everything that went into it; building again with the
 * same inputs is a no-op. Select it with the image override (function `image`, backend `images`).
 */
import { execFile } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { BackendError, ErrorCodes } from '../../errors.ts';
import { withBuildLock } from './build-lock.ts';
import { connectEngine } from './engine.ts';
import { importImage } from './image-import.ts';
import { collectRootfs, contentHash, imageChanges } from './local-image-rootfs.ts';

export { IMAGE_EMULATOR_DIR } from './local-image-rootfs.ts';

const execFileAsync = promisify(execFile);

/** Repository of the locally built images; the tag is `<node major>-local`. */
export const LOCAL_IMAGE_REPOSITORY = 'lambda-testkit/nodejs';

/** The tag of the local image for a Node major version, e.g. `lambda-testkit/nodejs:24-local`. */
export function localImageTag(nodeMajor: number = Number(process.versions.node.split('.')[0])): string {
  return `${LOCAL_IMAGE_REPOSITORY}:${nodeMajor}-local`;
}

export interface BuildLocalImageOptions {
  /**
   * Image name and tag.
   * @default localImageTag() — `lambda-testkit/nodejs:<host Node major>-local`
   */
  tag?: string;
  /**
   * Folder holding the BUILT emulator and bootstrap as `emulator/` and `bootstrap/` (JavaScript).
   * @default the `dist` folder of @lambda-testkit/core
   */
  emulatorBuild?: string;
  /**
   * The `/lambda-entrypoint.sh` to install.
   * @default `src/emulator/lambda-entrypoint.sh` of @lambda-testkit/core
   */
  entrypointScript?: string;
  /**
   * The Node binary to install as `/var/lang/bin/node` (must be a Linux binary of the engine's architecture).
   * @default process.execPath
   */
  nodeBinary?: string;
  /**
   * Rebuild even when an image with the same content hash exists.
   * @default false
   */
  force?: boolean;
  /** Progress lines (what is collected, whether the build was skipped). */
  onProgress?: (message: string) => void;
  /** Engine client. @default the Testcontainers runtime client's dockerode */
  docker?: Dockerode;
}

export interface LocalImage {
  /** `repository:tag` to use as an image override. */
  tag: string;
  /** SHA-256 (hex) over the image's files and configuration. */
  contentHash: string;
  /** False when an image with this content hash already existed (nothing was built). */
  built: boolean;
}

/** @lambda-testkit/core's package folder (same relative path from `src/…` and `dist/…`). */
const corePackageDir = fileURLToPath(new URL('../../../', import.meta.url));

const inFlight = new Map<string, Promise<LocalImage>>();

/**
 * Builds (or finds, by content hash) the local Lambda-compatible Node image and returns its tag.
 * Concurrent calls for the same tag in one process share one build.
 */
export function buildLocalImage(options: BuildLocalImageOptions = {}): Promise<LocalImage> {
  const tag = options.tag ?? localImageTag();
  const running = inFlight.get(tag);
  if (running) return running;
  const build = buildOnce(tag, options).finally(() => inFlight.delete(tag));
  inFlight.set(tag, build);
  return build;
}

async function buildOnce(tag: string, options: BuildLocalImageOptions): Promise<LocalImage> {
  const progress = options.onProgress ?? (() => {});
  const nodeBinary = options.nodeBinary ?? process.execPath;
  const nodeVersion =
    nodeBinary === process.execPath
      ? process.versions.node
      : (await execFileAsync(nodeBinary, ['-p', 'process.versions.node'])).stdout.trim();
  const nodeMajor = Number(nodeVersion.split('.')[0]);
  const entrypointScript =
    options.entrypointScript ?? join(corePackageDir, 'src/emulator/lambda-entrypoint.sh');
  if (!(await lstat(entrypointScript).catch(() => undefined))?.isFile()) {
    throw new BackendError(
      ErrorCodes.IMAGE_UNAVAILABLE,
      `Cannot build the local Lambda image: the entrypoint script was expected at ${entrypointScript}, and it is not there. ` +
        'Pass "entrypointScript", or reinstall @lambda-testkit/core (it ships src/emulator/lambda-entrypoint.sh).',
      { details: { path: entrypointScript } },
    );
  }
  const docker = options.docker ?? (await connectEngine()).container.dockerode;

  progress(`collecting the root filesystem for ${tag} (Node ${nodeVersion} from ${nodeBinary})`);
  const entries = await collectRootfs({
    emulatorBuild: options.emulatorBuild ?? join(corePackageDir, 'dist'),
    entrypointScript,
    nodeBinary,
  });
  const changes = imageChanges(nodeMajor);
  const hash = await contentHash(entries, changes);

  // Several suites (processes) may ask for the image at once: one builds, the others then find it.
  return withBuildLock(tag, progress, () =>
    importImage(docker, { tag, hash, entries, changes, nodeVersion }, { force: options.force, progress }),
  );
}
