/**
 * The one configuration format shared by the Vitest plugin and the Jest preset.
 * Loading and validation live in `load-config.ts`.
 */
import type { FunctionDeclaration } from './function-spec.ts';
import type { CdkSourceOptions, SamSourceOptions } from './sources/source-options.ts';

/**
 * The backends a run can ask for; `auto` is Docker when an engine answers, else Kubernetes when the
 * run is in a Pod with a service account, else processes. The one list: config validation,
 * `LAMBDA_TESTKIT_BACKEND` and backend selection read it.
 */
export const BACKEND_CHOICES = ['docker', 'process', 'kubernetes', 'auto'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** True when `value` names a backend (`BACKEND_CHOICES`). */
export function isBackendChoice(value: unknown): value is BackendChoice {
  return (BACKEND_CHOICES as readonly unknown[]).includes(value);
}

/** Where the Kubernetes backend runs its Pods (docs/kubernetes.md). */
export interface KubernetesConfig {
  /**
   * Namespace of the Pods, code ConfigMaps and the run's Lease.
   * @default `$LAMBDA_TESTKIT_KUBERNETES_NAMESPACE`, else the context's namespace, else `default`
   */
  namespace?: string;
  /**
   * Context of the kubeconfig.
   * @default the kubeconfig's current context
   */
  context?: string;
  /**
   * Path of the kubeconfig (relative paths from the config's root).
   * @default `$KUBECONFIG`, else `~/.kube/config`, else the Pod's service account
   */
  kubeconfig?: string;
}

export interface TestkitConfig {
  /** Functions by name. */
  functions?: Record<string, FunctionDeclaration>;
  /**
   * Functions of a SAM template, named by logical id (and their literal `FunctionName`).
   * See docs/sources.md.
   */
  sam?: SamSourceOptions;
  /**
   * Functions of a CDK cloud assembly (`cdk.out`), named by construct path (`MyStack/Orders`)
   * and logical id. See docs/sources.md.
   */
  cdk?: CdkSourceOptions;
  /**
   * Where functions run. `auto` uses Docker when an engine answers; otherwise Kubernetes when this
   * process runs in a Pod with a service account, else the process backend (saying so in one line).
   * @default 'auto'
   */
  backend?: BackendChoice;
  /** Options of the Kubernetes backend (`backend: 'kubernetes'`, or `auto` inside a Pod). */
  kubernetes?: KubernetesConfig;
  /**
   * Most instances per function at once; further calls wait in a FIFO queue.
   * @default 10
   */
  maxConcurrency?: number;
  /**
   * Scale-out policy. By default (0) a call that finds every instance of its function busy gets a
   * new instance at once, as Lambda scales out. A positive value makes it wait up to that many ms
   * for a busy instance to free up first, and start another one only if none does: a suite whose
   * parallel files call the same functions then pays fewer cold starts (see README, Performance).
   * A function's own `scaleOutWaitMs` wins.
   * @default 0
   */
  scaleOutWaitMs?: number;
  /**
   * Most instances being launched at once, over all functions.
   * @default 4
   */
  maxConcurrentLaunches?: number;
  /**
   * Milliseconds an instance may stay idle before it is stopped.
   * @default 600000
   */
  idleTtlMs?: number;
  /**
   * Launch one instance of these functions (or all, with `true`) before the tests start, and run its
   * init then, as provisioned concurrency does: its first call is warm. With AWS's base images (RIE)
   * only the container is started ahead (docs/emulator.md#init-ahead).
   * @default false
   */
  prewarm?: boolean | string[];
  /**
   * Docker only: containers kept created but not started per function in use (code mounted, nothing
   * running), so that a scale-out (a call that finds every instance busy) or a relaunch only starts
   * one: a cold start at about the cost of `docker start`. Made after a function's first launch or
   * its prewarm. Each costs disk, not memory or CPU; each start is still a cold start. 0 prepares
   * nothing. See docs/architecture.md#prepared-instances.
   * @default 0
   */
  spareInstances?: number;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '123456789012' */
  accountId?: string;
  /** Image per runtime identifier, overriding the official base images for the whole run. */
  images?: Record<string, string>;
  /**
   * Milliseconds before each retry of a failed Event call (Lambda waits about 1 and then 2 minutes;
   * shortened so tests need not wait). The last value repeats.
   * @default [100, 200]
   */
  eventRetryDelaysMs?: number[];
  /** Directory that relative paths are resolved against. @default the config file's folder or cwd */
  root?: string;
  /**
   * Docker only: a Docker network (its name, or a Testcontainers `StartedNetwork`) every Lambda
   * container of the run joins, so functions reach service containers on it by their network
   * alias (`http://dynamodb:8000`). The process backend ignores it (one line says so). See docs/wiring.md.
   */
  network?: string | NetworkRef;
  /**
   * Ports of servers on the host's loopback (127.0.0.1) that functions may reach, at
   * `$LAMBDA_TESTKIT_HOST:<port>`: as they are on the process backend; on Docker through a
   * forwarder on the containers' network gateway, for these ports only. The ports of loopback
   * `awsEndpoints` are added by themselves. See docs/wiring.md.
   * @default []
   */
  hostPorts?: number[];
  /**
   * Points the functions' AWS SDKs at local services through the variables every AWS SDK reads:
   * a string sets `AWS_ENDPOINT_URL` (every service), an object sets `AWS_ENDPOINT_URL_<SERVICE>`
   * per service id (`{ dynamodb: 'http://127.0.0.1:8000' }`; `default` sets `AWS_ENDPOINT_URL`).
   * A `localhost` / `127.0.0.1` host is rewritten to the host name sandboxes use on the backend of
   * the run, and its port becomes reachable as with `hostPorts`. A function's own `environment` wins.
   */
  awsEndpoints?: string | Record<string, string>;
  /**
   * Let functions invoke other functions of the run with the AWS SDK (`LambdaClient` + `InvokeCommand`):
   * sets `AWS_ENDPOINT_URL_LAMBDA` to the pool server and the run's credentials in every sandbox.
   * On Docker the pool server then also answers on the containers' network gateway (same token).
   * @default false
   */
  functionsCanInvoke?: boolean;
}

/** What lambda-testkit needs of a Testcontainers `StartedNetwork`: its name. */
export interface NetworkRef {
  getName(): string;
}

/** Identity for config files and editors: `export default defineConfig({...})`. */
export function defineConfig(config: TestkitConfig): TestkitConfig {
  return config;
}
