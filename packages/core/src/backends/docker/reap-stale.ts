/**
 * The sweep of containers that crashed runs left behind.
 *
 * Ryuk (Testcontainers' reaper) removes a session's containers when its process dies, where Ryuk
 * can run. Where it cannot (no registry for its image, TESTCONTAINERS_RYUK_DISABLED), or when an
 * engine outlived the run, lambda-testkit's own labels tell which containers belong to a run whose
 * owning process is gone: same host, and either another boot or no live process with the recorded
 * pid and start time. Containers owned by another host are never touched (their owner cannot be seen).
 */
import type Dockerode from 'dockerode';
import { isOwnerGone, type RunOwner } from '../shared/run-owner.ts';
import { ContainerLabels, LIBRARY_NAME } from './labels.ts';

export interface StaleContainer {
  id: string;
  name: string;
  functionName: string;
  runId: string;
  ownerPid: number;
  state: string;
}

export interface ReapOptions {
  docker: Dockerode;
  /**
   * Remove every lambda-testkit container, including those of runs that are still alive.
   * @default false
   */
  all?: boolean;
}

/** The owner a container's labels record (docker-backend.ts writes them from `currentRunOwner()`). */
export function ownerFromLabels(labels: Record<string, string>): RunOwner {
  const startTime = labels[ContainerLabels.ownerStartTime] || undefined;
  const bootId = labels[ContainerLabels.ownerBootId] || undefined;
  return {
    pid: Number(labels[ContainerLabels.ownerPid]),
    hostname: labels[ContainerLabels.ownerHost] ?? '',
    ...(startTime ? { startTime } : {}),
    ...(bootId ? { bootId } : {}),
  };
}

/**
 * Lists lambda-testkit containers whose owner is gone (or all of them) and removes them, then the
 * code volumes of such owners (code-volumes.ts), which their containers no longer hold. Resolves with
 * the containers removed.
 */
export async function reapStaleContainers(options: ReapOptions): Promise<StaleContainer[]> {
  const containers = await options.docker.listContainers({
    all: true,
    filters: { label: [`${ContainerLabels.library}=${LIBRARY_NAME}`] },
  });
  const stale = containers.filter((c) => options.all || isOwnerGone(ownerFromLabels(c.Labels)));
  const removed: StaleContainer[] = [];
  await Promise.all(
    stale.map(async (c) => {
      try {
        await options.docker.getContainer(c.Id).remove({ force: true, v: true });
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (status !== 404 && status !== 409) throw error;
        if (status === 404) return;
      }
      removed.push({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        functionName: c.Labels[ContainerLabels.functionName] ?? '',
        runId: c.Labels[ContainerLabels.runId] ?? '',
        ownerPid: Number(c.Labels[ContainerLabels.ownerPid]),
        state: c.State,
      });
    }),
  );
  await reapStaleVolumes(options);
  return removed;
}

/** Removes lambda-testkit volumes whose owner is gone (or all); one still in use (409) is left. */
async function reapStaleVolumes(options: ReapOptions): Promise<void> {
  const { Volumes: volumes } = await options.docker.listVolumes({
    filters: { label: [`${ContainerLabels.library}=${LIBRARY_NAME}`] },
  });
  const stale = (volumes ?? []).filter((v) => options.all || isOwnerGone(ownerFromLabels(v.Labels ?? {})));
  await Promise.all(
    stale.map((v) =>
      options.docker
        .getVolume(v.Name)
        .remove()
        .catch((error: { statusCode?: number }) => {
          if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
        }),
    ),
  );
}
