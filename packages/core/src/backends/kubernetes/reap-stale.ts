/**
 * The sweep of what dead runs left in a namespace, wherever they ran.
 *
 * A session is gone when its owner Lease (owner-lease.ts) is missing, or has not been renewed for
 * twice its duration (another host's clock may lag a little), or names an owner on THIS host that
 * is provably dead (another boot, or no live process with its pid and start time: a SIGKILLed run is
 * seen at once). Pods and payload ConfigMaps of gone sessions are deleted, then their Leases.
 *
 * Order matters: objects are listed BEFORE Leases. A live session creates its Lease before anything
 * else, so any object listed earlier has its Lease in the later list; an object whose Lease is absent
 * there belongs to a session that deleted it (teardown) or never finished creating it.
 */
import { hostname } from 'node:os';
import type { V1Lease, V1ObjectMeta } from '@kubernetes/client-node';
import { LIBRARY_NAME } from '../shared/object-labels.ts';
import { isOwnerGone } from '../shared/run-owner.ts';
import type { ClusterClient } from './cluster-client.ts';
import { statusOf } from './cluster-client.ts';
import { KubernetesLabels, selector } from './labels.ts';

export interface ReapKubernetesOptions {
  client: ClusterClient;
  namespace: string;
  /**
   * Delete every lambda-testkit object of the namespace, live sessions included.
   * @default false
   */
  all?: boolean;
  /** Sessions never to sweep (the caller's own). */
  keep?: readonly string[];
  /** For tests: the current time. @default Date.now() */
  now?: number;
}

export interface ReapedKubernetes {
  sessions: string[];
  pods: Array<{ name: string; functionName: string; runId: string }>;
  configMaps: string[];
  leases: string[];
}

/** True when the Lease proves its session's owner is gone. */
export function isLeaseStale(lease: V1Lease, now = Date.now()): boolean {
  const annotations = lease.metadata?.annotations ?? {};
  const pid = Number(annotations[KubernetesLabels.ownerPid]);
  // On this host the owner's process answers for itself (isOwnerGone is false for other hosts).
  if (annotations[KubernetesLabels.ownerHost] === hostname() && Number.isInteger(pid) && pid > 0) {
    const startTime = annotations[KubernetesLabels.ownerStartTime];
    const bootId = annotations[KubernetesLabels.ownerBootId];
    return isOwnerGone({
      hostname: hostname(),
      pid,
      ...(startTime ? { startTime } : {}),
      ...(bootId ? { bootId } : {}),
    });
  }
  const renewed = lease.spec?.renewTime ?? lease.spec?.acquireTime ?? lease.metadata?.creationTimestamp;
  const duration = lease.spec?.leaseDurationSeconds ?? 0;
  if (!renewed) return true;
  return now - new Date(renewed).getTime() > 2 * duration * 1000;
}

const sessionOf = (meta: V1ObjectMeta | undefined) => meta?.labels?.[KubernetesLabels.session] ?? '';

/** Finds and deletes the objects of gone sessions (or all of them); resolves with what was removed. */
export async function reapStaleObjects(options: ReapKubernetesOptions): Promise<ReapedKubernetes> {
  const { client, namespace } = options;
  const keep = new Set(options.keep ?? []);
  const labelSelector = selector({ [KubernetesLabels.library]: LIBRARY_NAME });
  const pods = (await client.core.listNamespacedPod({ namespace, labelSelector })).items;
  const maps = (await client.core.listNamespacedConfigMap({ namespace, labelSelector })).items;
  const leases = (await client.coordination.listNamespacedLease({ namespace, labelSelector })).items;

  const live = new Set<string>();
  const staleLeases: V1Lease[] = [];
  for (const lease of leases) {
    const session = sessionOf(lease.metadata);
    if (keep.has(session) || (!options.all && !isLeaseStale(lease, options.now))) live.add(session);
    else staleLeases.push(lease);
  }
  const gone = (meta: V1ObjectMeta | undefined) => {
    const session = sessionOf(meta);
    return !keep.has(session) && (options.all || !live.has(session));
  };

  const result: ReapedKubernetes = { sessions: [], pods: [], configMaps: [], leases: [] };
  const sessions = new Set<string>();
  const ignoreMissing = (error: unknown) => {
    if (statusOf(error) !== 404) throw error;
  };
  await Promise.all([
    ...pods
      .filter((p) => gone(p.metadata))
      .map(async (p) => {
        const name = p.metadata?.name ?? '';
        await client.core
          .deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 })
          .catch(ignoreMissing);
        sessions.add(sessionOf(p.metadata));
        const annotations = p.metadata?.annotations ?? {};
        result.pods.push({
          name,
          functionName: annotations[KubernetesLabels.functionName] ?? '',
          runId: annotations[KubernetesLabels.runId] ?? '',
        });
      }),
    ...maps
      .filter((m) => gone(m.metadata))
      .map(async (m) => {
        const name = m.metadata?.name ?? '';
        await client.core.deleteNamespacedConfigMap({ name, namespace }).catch(ignoreMissing);
        sessions.add(sessionOf(m.metadata));
        result.configMaps.push(name);
      }),
  ]);
  await Promise.all(
    staleLeases.map(async (lease) => {
      const name = lease.metadata?.name ?? '';
      await client.coordination.deleteNamespacedLease({ name, namespace }).catch(ignoreMissing);
      sessions.add(sessionOf(lease.metadata));
      result.leases.push(name);
    }),
  );
  result.sessions = [...sessions].filter(Boolean).sort();
  return result;
}
