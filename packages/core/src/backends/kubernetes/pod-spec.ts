/**
 * The Pod of one Lambda instance: the runtime's image with its own entrypoint and the handler as
 * the command, the Lambda environment, a memory limit of `memorySize` (a handler that outgrows it is
 * killed by the kernel, as in Lambda), and the code laid out by an init container (code-payload.ts).
 */
import type { V1OwnerReference, V1Pod, V1Volume } from '@kubernetes/client-node';
import { INSTALL_SCRIPT, OPT_STAGING, PAYLOAD_MOUNT, TASK_STAGING } from './code-payload.ts';

/** RIE's invoke port inside the base images (docs/lambda-apis.md §1.2). */
export const INVOKE_PORT = 8080;

/** Names of the runtime container and of the init container in every instance Pod. */
export const RUNTIME_CONTAINER = 'lambda';
export const INSTALL_CONTAINER = 'install-code';

/** Memory per vCPU in Lambda: 1,769 MB is one full vCPU (AWS, "Configuring Lambda function memory"). */
const MB_PER_VCPU = 1769;

/** CPU request in millicores proportional to memory, as Lambda allots it; at least 10m. */
export function cpuRequestFor(memorySizeMb: number): string {
  return `${Math.max(10, Math.round((memorySizeMb / MB_PER_VCPU) * 1000))}m`;
}

export interface InstancePodInput {
  name: string;
  image: string;
  handler: string;
  environment: Record<string, string>;
  memorySizeMb: number;
  /** CPU request (a Kubernetes quantity); proportional to memory when undefined. */
  cpuRequest?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences: V1OwnerReference[];
  payload: V1Volume;
  /** `imagePullPolicy` of both containers. */
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
}

export function instancePod(input: InstancePodInput): V1Pod {
  const memory = `${input.memorySizeMb}Mi`;
  const cpu = input.cpuRequest ?? cpuRequestFor(input.memorySizeMb);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.name,
      labels: input.labels,
      annotations: input.annotations,
      ownerReferences: input.ownerReferences,
    },
    spec: {
      // The instance ends with its runtime: the pool notices and starts a fresh one.
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      // The function under test gets no cluster credentials and no service variables.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      volumes: [
        input.payload,
        { name: 'task', emptyDir: {} },
        { name: 'opt', emptyDir: {} },
        { name: 'tmp', emptyDir: {} },
      ],
      initContainers: [
        {
          name: INSTALL_CONTAINER,
          image: input.image,
          imagePullPolicy: input.imagePullPolicy,
          command: ['/bin/sh', `${PAYLOAD_MOUNT}/${INSTALL_SCRIPT}`],
          volumeMounts: [
            { name: input.payload.name, mountPath: PAYLOAD_MOUNT, readOnly: true },
            { name: 'task', mountPath: TASK_STAGING },
            { name: 'opt', mountPath: OPT_STAGING },
          ],
          resources: { requests: { cpu, memory }, limits: { memory } },
        },
      ],
      containers: [
        {
          name: RUNTIME_CONTAINER,
          image: input.image,
          imagePullPolicy: input.imagePullPolicy,
          // The image's ENTRYPOINT (/lambda-entrypoint.sh) stays; the handler is its argument.
          args: [input.handler],
          env: Object.entries(input.environment).map(([name, value]) => ({ name, value })),
          ports: [{ name: 'invoke', containerPort: INVOKE_PORT, protocol: 'TCP' }],
          resources: { requests: { cpu, memory }, limits: { memory } },
          volumeMounts: [
            { name: 'task', mountPath: '/var/task' },
            { name: 'opt', mountPath: '/opt' },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ],
    },
  };
}
