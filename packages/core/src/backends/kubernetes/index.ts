export { type ClusterClient, type ClusterOptions, clusterClient, runsInPod } from './cluster-client.ts';
export { buildCodePayload, type CodePayload, PAYLOAD_BYTES } from './code-payload.ts';
export {
  KubernetesBackend,
  type KubernetesBackendOptions,
  type KubernetesInstance,
} from './kubernetes-backend.ts';
export { KubernetesLabels } from './labels.ts';
export { isLeaseStale, type ReapedKubernetes, reapStaleObjects } from './reap-stale.ts';
