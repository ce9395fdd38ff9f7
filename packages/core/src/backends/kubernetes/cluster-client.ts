/**
 * Reaching the cluster with the official client (@kubernetes/client-node): which kubeconfig and
 * context, the API groups the backend uses, and whether this process itself runs in a Pod.
 *
 * Only APIs stable since long before Kubernetes 1.20 are used (core v1 Pods, ConfigMaps, logs and
 * port-forward; coordination.k8s.io/v1 Leases), so old clusters work as well as new ones.
 */
import { existsSync } from 'node:fs';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { BackendError, ErrorCodes } from '../../errors.ts';

/** Where a Pod finds its service account (Kubernetes "Accessing the API from a Pod"). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ClusterOptions {
  /**
   * Path of the kubeconfig file.
   * @default `$KUBECONFIG`, else `~/.kube/config`, else the in-cluster service account
   */
  kubeconfig?: string;
  /**
   * Context of the kubeconfig to use.
   * @default the kubeconfig's current context
   */
  context?: string;
}

export interface ClusterClient {
  config: KubeConfig;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  /** `server` of the cluster in use, for messages. */
  server: string;
}

/**
 * True when this process runs in a Kubernetes Pod with a service account: the kubelet sets
 * KUBERNETES_SERVICE_HOST in every container and mounts the account's token (unless disabled).
 */
export function runsInPod(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync(`${SERVICE_ACCOUNT_DIR}/token`);
}

/** Loads the kubeconfig (or the in-cluster account) and makes the API clients. Does not call the cluster. */
export function clusterClient(options: ClusterOptions = {}): ClusterClient {
  const config = new KubeConfig();
  try {
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
    if (options.context) config.setCurrentContext(options.context);
  } catch (cause) {
    throw unavailable(
      `could not load the kubeconfig ${options.kubeconfig ?? '(default)'}: ${message(cause)}`,
      options,
      cause,
    );
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) {
    throw unavailable(
      options.context
        ? `the kubeconfig has no context "${options.context}" (or it names no cluster)`
        : 'no kubeconfig was found and this process does not run in a Pod',
      options,
    );
  }
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    server: cluster.server,
  };
}

/** Resolves once the API server answers (a namespace read); fails with KUBERNETES_UNAVAILABLE otherwise. */
export async function checkCluster(client: ClusterClient, namespace: string, options: ClusterOptions = {}) {
  try {
    await client.core.readNamespace({ name: namespace });
  } catch (cause) {
    const code = (cause as { code?: number }).code;
    if (code === 404) {
      throw new BackendError(
        ErrorCodes.KUBERNETES_UNAVAILABLE,
        `The namespace "${namespace}" does not exist on ${client.server}. Create it ` +
          `(kubectl create namespace ${namespace}) or set kubernetes.namespace to an existing one.`,
        { cause, details: { namespace, server: client.server } },
      );
    }
    // 403: the account may not read namespaces, which the run does not need; the cluster answered.
    if (code === 403) return;
    throw unavailable(`the API server ${client.server} did not answer: ${message(cause)}`, options, cause);
  }
}

function unavailable(reason: string, options: ClusterOptions, cause?: unknown): BackendError {
  return new BackendError(
    ErrorCodes.KUBERNETES_UNAVAILABLE,
    `No Kubernetes cluster is reachable: ${reason}. Point kubernetes.kubeconfig (or $KUBECONFIG) at a ` +
      'kubeconfig whose cluster answers, choose a context with kubernetes.context, or use another backend.',
    { cause, details: { kubeconfig: options.kubeconfig, context: options.context } },
  );
}

export function message(error: unknown): string {
  if (error instanceof Error) {
    const body = (error as { body?: unknown }).body;
    if (typeof body === 'string' && body.startsWith('{')) {
      try {
        const status = JSON.parse(body) as { message?: string };
        if (status.message) return status.message;
      } catch {
        // Not a Status object: the error's own message follows.
      }
    }
    return error.message;
  }
  return String(error);
}

/** The HTTP status of a client error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
