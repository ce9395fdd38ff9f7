/**
 * Choosing the backend for a run: `docker`, `process`, `kubernetes`, or `auto`: Docker when an engine
 * answers; otherwise Kubernetes when this process runs in a Pod with a service account; otherwise the
 * process backend (either fallback said in one line).
 */
import type { LambdaBackend } from '../../backend.ts';
import type { BackendChoice } from '../../config.ts';
import { ConfigError, ErrorCodes } from '../../errors.ts';
import { runsInPod } from '../kubernetes/cluster-client.ts';
import { KubernetesBackend, type KubernetesBackendOptions } from '../kubernetes/kubernetes-backend.ts';
import { ProcessBackend, type ProcessBackendOptions } from '../process/index.ts';
import { DockerBackend, type DockerBackendOptions } from './docker-backend.ts';
import { connectEngine, engineLocationTried } from './engine.ts';

export interface SelectBackendOptions {
  /**
   * Where the one line about an `auto` fallback goes (and the Docker backend's progress lines,
   * unless `docker.log` is given).
   * @default a line on stderr
   */
  log?: (line: string) => void;
  /** Options of the Docker backend, when it is chosen. */
  docker?: DockerBackendOptions;
  /** Options of the process backend, when it is chosen. */
  process?: ProcessBackendOptions;
  /** Options of the Kubernetes backend, when it is chosen. */
  kubernetes?: KubernetesBackendOptions;
}

const BACKEND_CHOICES: readonly BackendChoice[] = ['docker', 'process', 'kubernetes', 'auto'];

/**
 * The backend for `choice`. `docker` without an engine fails with BackendError DOCKER_UNAVAILABLE
 * (what was tried, how to fix it); `auto` then falls back to the process backend instead.
 */
export async function selectBackend(
  choice: BackendChoice,
  options: SelectBackendOptions = {},
): Promise<LambdaBackend> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[lambda-testkit] ${line}\n`));
  const docker = () => new DockerBackend({ log, ...options.docker });
  const kubernetes = async () => {
    const backend = new KubernetesBackend({ log, ...options.kubernetes });
    await backend.connect();
    return backend;
  };
  switch (choice) {
    case 'process':
      return new ProcessBackend(options.process);
    case 'docker':
      await connectEngine();
      return docker();
    case 'kubernetes':
      return kubernetes();
    case 'auto':
      try {
        await connectEngine();
        return docker();
      } catch {
        if (runsInPod()) {
          const backend = await kubernetes();
          log(
            `backend 'auto': no container engine answered (tried ${engineLocationTried()}) and this process runs in a ` +
              `Kubernetes Pod with a service account; running functions as Pods in namespace ${backend.namespace}.`,
          );
          return backend;
        }
        log(
          `backend 'auto': no container engine answered (tried ${engineLocationTried()}); running functions as local processes instead.`,
        );
        return new ProcessBackend(options.process);
      }
    default:
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `Unknown backend "${String(choice)}". Expected one of: ${BACKEND_CHOICES.join(', ')}.`,
        { details: { backend: choice } },
      );
  }
}
