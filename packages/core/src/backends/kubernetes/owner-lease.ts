/**
 * A run's liveness, visible to every other run on any host: a `coordination.k8s.io/v1` Lease per
 * backend session, renewed while the process lives. Everything the session creates (Pods, payload
 * ConfigMaps) names the Lease as its owner, so deleting the Lease also lets the cluster's garbage
 * collector remove them; the sweep (reap-stale.ts) deletes them itself as well.
 *
 * The holder's host, boot and pid go into annotations: on the same host a sweep sees at once that
 * the owner died (SIGKILL), without waiting for the Lease to expire.
 */
import { type V1Lease, V1MicroTime, type V1OwnerReference } from '@kubernetes/client-node';
import { LIBRARY_NAME, LIBRARY_VERSION } from '../shared/object-labels.ts';
import { currentRunOwner } from '../shared/run-owner.ts';
import type { ClusterClient } from './cluster-client.ts';
import { statusOf } from './cluster-client.ts';
import { KubernetesLabels, objectName } from './labels.ts';

export interface OwnerLeaseOptions {
  client: ClusterClient;
  namespace: string;
  session: string;
  /** Seconds without renewal after which other runs treat the owner as gone. */
  durationSeconds: number;
}

export class OwnerLease {
  readonly name: string;
  readonly #options: OwnerLeaseOptions;
  #lease: V1Lease | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #renewing: Promise<void> | undefined;

  constructor(options: OwnerLeaseOptions) {
    this.#options = options;
    this.name = objectName('lambda-testkit-owner', options.session, 'lease');
  }

  /** Creates the Lease and starts renewing it every third of its duration. */
  async acquire(): Promise<V1OwnerReference> {
    const { client, namespace, session, durationSeconds } = this.#options;
    const owner = currentRunOwner();
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        labels: {
          [KubernetesLabels.library]: LIBRARY_NAME,
          [KubernetesLabels.session]: session,
          [KubernetesLabels.role]: 'owner',
        },
        annotations: {
          [KubernetesLabels.version]: LIBRARY_VERSION,
          [KubernetesLabels.ownerHost]: owner.hostname,
          [KubernetesLabels.ownerBootId]: owner.bootId ?? '',
          [KubernetesLabels.ownerPid]: String(owner.pid),
          [KubernetesLabels.ownerStartTime]: owner.startTime ?? '',
        },
      },
      spec: {
        holderIdentity: `${owner.hostname}/${owner.pid}`,
        leaseDurationSeconds: durationSeconds,
        acquireTime: new V1MicroTime(),
        renewTime: new V1MicroTime(),
      },
    };
    this.#lease = await client.coordination.createNamespacedLease({ namespace, body });
    this.#timer = setInterval(() => void this.renew(), (durationSeconds * 1000) / 3);
    this.#timer.unref();
    return this.ownerReference();
  }

  ownerReference(): V1OwnerReference {
    const uid = this.#lease?.metadata?.uid;
    if (!uid) throw new Error('the owner Lease was not acquired');
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: this.name, uid };
  }

  /** Moves renewTime to now (a failed renewal is retried on the next tick). */
  renew(): Promise<void> {
    this.#renewing ??= (async () => {
      const lease = this.#lease;
      if (!lease?.spec) return;
      try {
        this.#lease = await this.#options.client.coordination.replaceNamespacedLease({
          name: this.name,
          namespace: this.#options.namespace,
          body: {
            ...lease,
            spec: {
              ...lease.spec,
              // MicroTime fields must be sent with six fraction digits; a read-back value is a plain Date.
              ...(lease.spec.acquireTime ? { acquireTime: new V1MicroTime(lease.spec.acquireTime) } : {}),
              renewTime: new V1MicroTime(),
            },
          },
        });
      } catch (error) {
        // 409: our copy is stale (someone touched it); the next tick starts from the current one.
        if (statusOf(error) === 409) {
          this.#lease = await this.#options.client.coordination
            .readNamespacedLease({ name: this.name, namespace: this.#options.namespace })
            .catch(() => this.#lease);
        }
      } finally {
        this.#renewing = undefined;
      }
    })();
    return this.#renewing;
  }

  /** Stops renewing and deletes the Lease (the last step of a normal teardown). Idempotent. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#lease) return;
    await this.#renewing;
    this.#lease = undefined;
    try {
      await this.#options.client.coordination.deleteNamespacedLease({
        name: this.name,
        namespace: this.#options.namespace,
      });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }
}
