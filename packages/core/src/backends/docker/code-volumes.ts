/**
 * The code and layers of a function version as Docker volumes, mounted read-only into each of its
 * containers (docs/architecture.md#the-read-only-sandbox-on-docker).
 *
 * Why volumes: Lambda's root file system is read-only, and Docker refuses to copy an archive into a
 * container created with `ReadonlyRootfs` ("container rootfs is marked read-only"), even before it
 * starts; into a read-only mount it refuses too ("mounted volume is marked read-only"). It does accept
 * an archive into a *writable volume* of a created container (moby daemon/archive_unix.go,
 * `checkIfPathIsInAVolume`). So the code is copied once per function version into volumes through a
 * helper container that is created and never started, and every instance mounts those volumes
 * read-only: writes there fail with EROFS, as on Lambda. Volumes live in the engine, so this works
 * with a remote engine too (no host path is involved).
 *
 * One copy per version instead of one per instance also makes every launch after the first cheaper.
 * Volumes carry the run's labels (the sweep of dead runs and Ryuk remove them) and are removed when
 * their version is superseded and no container uses them, and when the backend closes.
 */
import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { BackendError, ErrorCodes } from '../../errors.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import { sandboxFilesystemTar } from './archive-tar.ts';
import { ContainerLabels } from './labels.ts';

/** A volume mounted into a Lambda container, read-only. */
export interface CodeMount {
  source: string;
  target: string;
}

interface Entry {
  functionName: string;
  deployId: string;
  /** Containers created with these volumes and not removed yet. */
  refs: number;
  /** A newer version of the function was asked for: remove once no container uses it. */
  stale: boolean;
  volumes: string[];
  ready: Promise<CodeMount[]>;
}

/** A name Docker accepts for a volume or container, naming the function. */
function objectName(kind: string, functionName: string): string {
  const fn = functionName.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 40);
  return `lambda-testkit-${kind}-${fn}-${randomBytes(4).toString('hex')}`;
}

export class CodeVolumes {
  readonly #docker: () => Promise<Dockerode>;
  readonly #entries = new Map<string, Entry>();
  readonly #removals = new Set<Promise<void>>();
  /** Removals of helper containers under way: a volume is removed only after them (else it is in use). */
  readonly #helpers = new Set<Promise<void>>();
  /** `removeAll` ran: volumes made by a launch that raced it go with their last container. */
  #closing = false;

  constructor(docker: () => Promise<Dockerode>) {
    this.#docker = docker;
  }

  /**
   * The read-only mounts of `fn`'s code (`/var/task`) and, when it has layers, of `/opt`, copied
   * now for a version not seen yet in this run (`labels` carry the run id). Counts one user until
   * `release(key)`. Asking for a new version of a function marks its older versions stale.
   */
  async acquire(
    fn: ResolvedFunction,
    image: string,
    labels: Record<string, string>,
  ): Promise<{ key: string; mounts: CodeMount[] }> {
    // Per function name and run as well: two functions of the same code and settings share a deploy
    // id, and the volumes carry one function's and one run's labels (the sweep reads them).
    const key = [image, fn.name, fn.deployId, labels[ContainerLabels.runId] ?? ''].join('\n');
    let entry = this.#entries.get(key);
    if (!entry) {
      for (const [otherKey, other] of this.#entries) {
        if (other.functionName === fn.name && other.deployId !== fn.deployId) {
          other.stale = true;
          this.#removeIfUnused(otherKey, other);
        }
      }
      const volumes = [
        objectName('code', fn.name),
        ...(fn.layers.length ? [objectName('opt', fn.name)] : []),
      ];
      const created: Entry = {
        functionName: fn.name,
        deployId: fn.deployId,
        refs: 0,
        stale: false,
        volumes,
        ready: this.#populate(fn, image, labels, volumes),
      };
      entry = created;
      this.#entries.set(key, created);
      created.ready.catch(() => {
        if (this.#entries.get(key) === created) this.#entries.delete(key);
        this.#remove(created.volumes);
      });
    }
    entry.refs++;
    try {
      return { key, mounts: await entry.ready };
    } catch (error) {
      entry.refs--;
      throw error;
    }
  }

  /** One container of `key`'s volumes is gone. */
  release(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    entry.refs = Math.max(0, entry.refs - 1);
    this.#removeIfUnused(key, entry);
  }

  /** Removes every volume (the backend's containers must be removed first). */
  async removeAll(): Promise<void> {
    this.#closing = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(
      entries.map((e) =>
        e.ready.then(
          () => this.#remove(e.volumes),
          () => undefined,
        ),
      ),
    );
    await Promise.all([...this.#removals]);
  }

  /** The volumes in use now (for tests and diagnostics). */
  volumes(): string[] {
    return [...this.#entries.values()].flatMap((e) => e.volumes);
  }

  #removeIfUnused(key: string, entry: Entry): void {
    if ((!entry.stale && !this.#closing) || entry.refs > 0) return;
    this.#entries.delete(key);
    void entry.ready.then(
      () => this.#remove(entry.volumes),
      () => undefined,
    );
  }

  /**
   * Creates the volumes (with the run's labels), copies the code and
   * layers into them, and removes the helper. The helper is a container of the function's image,
   * so an empty volume first receives what the image has at that path, as a plain container would.
   */
  async #populate(
    fn: ResolvedFunction,
    image: string,
    labels: Record<string, string>,
    volumes: string[],
  ): Promise<CodeMount[]> {
    const docker = await this.#docker();
    const targets = ['/var/task', '/opt'];
    const mounts = volumes.map((source, i) => ({ source, target: targets[i] ?? '/opt' }));
    let helper: Dockerode.Container | undefined;
    try {
      await Promise.all(volumes.map((Name) => docker.createVolume({ Name, Labels: labels })));
      const created = await docker.createContainer({
        name: objectName('copy', fn.name),
        Image: image,
        Labels: labels,
        NetworkDisabled: true,
        HostConfig: {
          NetworkMode: 'none',
          Mounts: mounts.map((m) => ({ Type: 'volume', Source: m.source, Target: m.target })),
        },
      });
      helper = created;
      await created.putArchive(await sandboxFilesystemTar(fn.code, fn.layers), { path: '/' });
      return mounts;
    } catch (error) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `Could not copy the code of "${fn.name}" into its volumes: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, details: { function: fn.name, image, volumes } },
      );
    } finally {
      // Not awaited by the launch: the volumes are ready, the helper only has to go.
      if (helper)
        this.#track(
          this.#helpers,
          helper.remove({ force: true }).then(
            () => {},
            () => {},
          ),
        );
    }
  }

  /** Removes volumes; one still in use (409) or gone (404) is left to the sweep. */
  #remove(volumes: string[]): Promise<void> {
    return this.#track(
      this.#removals,
      (async () => {
        await Promise.all([...this.#helpers]);
        const docker = await this.#docker();
        await Promise.all(
          volumes.map((v) =>
            docker
              .getVolume(v)
              .remove()
              .catch(() => {}),
          ),
        );
      })(),
    );
  }

  #track(set: Set<Promise<void>>, work: Promise<void>): Promise<void> {
    set.add(work);
    void work.finally(() => set.delete(work));
    return work;
  }
}
