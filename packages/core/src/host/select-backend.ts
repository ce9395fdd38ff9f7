/**
 * Choosing the backend for a run: `docker`, `process`, `kubernetes`, or `auto`: Docker when an engine
 * answers, otherwise Kubernetes when this process runs in a Pod with a service account, otherwise the
 * process backend, said in one line; with Docker, a Node.js function whose image cannot be had runs on
 * the process backend in the same run (`FallbackBackend`), said in one line.
 */
import type { LambdaBackend } from '../backend.ts';
import type { DockerBackendOptions } from '../backends/docker/docker-backend.ts';
import { FallbackBackend } from '../backends/fallback/index.ts';
import type {
  KubernetesBackend,
  KubernetesBackendOptions,
} from '../backends/kubernetes/kubernetes-backend.ts';
import { ProcessBackend, type ProcessBackendOptions } from '../backends/process/index.ts';
import { BACKEND_CHOICES, type BackendChoice } from '../config.ts';
import { ConfigError, ErrorCodes, isTestkitError } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import { stderrLog } from '../log.ts';
import { findRuntime } from '../runtimes.ts';

export interface SelectBackendOptions {
  /**
   * Where the one line about an `auto` fallback goes (and the backends' own lines: Docker's
   * progress, the debugger line of a debugged function; unless `docker.log` / `process.log` is given).
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

/**
 * How each named backend is made, after checking what it needs (an engine for Docker). A new
 * backend is one name in `BACKEND_CHOICES` (config.ts), one entry here, and its options above.
 */
const FACTORIES: Record<
  Exclude<BackendChoice, 'auto'>,
  (options: SelectBackendOptions, log: (line: string) => void) => Promise<LambdaBackend>
> = {
  docker: async (options, log) => {
    // Loaded when chosen: Testcontainers and the Kubernetes client take seconds to import on a busy
    // machine, which a run on the process backend would pay for nothing.
    const [{ connectEngine }, { DockerBackend }] = await Promise.all([
      import('../backends/docker/engine.ts'),
      import('../backends/docker/docker-backend.ts'),
    ]);
    await connectEngine();
    return new DockerBackend({ log, ...options.docker });
  },
  process: async (options, log) => new ProcessBackend({ log, ...options.process }),
  kubernetes: (options, log) => connectKubernetes(options, log),
};

/** A Kubernetes backend whose cluster answered (KUBERNETES_UNAVAILABLE otherwise). */
async function connectKubernetes(
  options: SelectBackendOptions,
  log: (line: string) => void,
): Promise<KubernetesBackend> {
  const { KubernetesBackend } = await import('../backends/kubernetes/kubernetes-backend.ts');
  const backend = new KubernetesBackend({ log, ...options.kubernetes });
  await backend.connect();
  return backend;
}

/**
 * Why `auto` runs `fn` as a local process after Docker failed with `error`: only a missing image
 * (no registry, an image nobody serves), and only for a runtime the process backend runs (Node.js).
 * Anything else stands: an explicit `docker` never gets here.
 */
export function processFallbackReason(fn: ResolvedFunction, error: unknown): string | undefined {
  if (!isTestkitError(error, ErrorCodes.IMAGE_UNAVAILABLE)) return undefined;
  if (findRuntime(fn.runtime)?.family !== 'nodejs') return undefined;
  const image = typeof error.details.image === 'string' ? error.details.image : 'its image';
  // The engine's words, without its HTTP wrapper: `(HTTP code 500) server error - Get "…": …`.
  const why = (typeof error.details.reason === 'string' ? error.details.reason : '').replace(
    /^\(HTTP code \d+\)[^-]*- /,
    '',
  );
  const short = why.length > 160 ? `${why.slice(0, 157)}...` : why;
  return (
    `image "${image}" cannot be had here${short ? ` (${short})` : ''}. backend 'docker' would stop here; ` +
    'to keep such a function in a container, build an image (lambda-testkit build-image) and select it'
  );
}

/**
 * The backend for `choice`. `docker` without an engine fails with BackendError DOCKER_UNAVAILABLE
 * (what was tried, how to fix it); `auto` then falls back to the process backend instead.
 */
export async function selectBackend(
  choice: BackendChoice,
  options: SelectBackendOptions = {},
): Promise<LambdaBackend> {
  const log = options.log ?? stderrLog;
  if (choice === 'auto') {
    let docker: LambdaBackend;
    try {
      docker = await FACTORIES.docker(options, log);
    } catch {
      const [{ engineLocationTried }, { runsInPod }] = await Promise.all([
        import('../backends/docker/engine.ts'),
        import('../backends/kubernetes/cluster-client.ts'),
      ]);
      if (runsInPod()) {
        const backend = await connectKubernetes(options, log);
        log(
          `backend 'auto': no container engine answered (tried ${engineLocationTried()}) and this process runs in ` +
            `a Kubernetes Pod with a service account; running functions as Pods in namespace ${backend.namespace}.`,
        );
        return backend;
      }
      log(
        `backend 'auto': no container engine answered (tried ${engineLocationTried()}); running functions as local processes instead.`,
      );
      return FACTORIES.process(options, log);
    }
    // Docker answers; a Node.js function whose image no registry gives runs as a process instead.
    return new FallbackBackend({
      primary: docker,
      fallback: () => new ProcessBackend({ log, ...options.process }),
      fallsBackOn: processFallbackReason,
      log,
    });
  }
  const factory = Object.hasOwn(FACTORIES, choice) ? FACTORIES[choice] : undefined;
  if (!factory) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Unknown backend "${String(choice)}". Expected one of: ${BACKEND_CHOICES.join(', ')}.`,
      { details: { backend: choice } },
    );
  }
  return factory(options, log);
}
