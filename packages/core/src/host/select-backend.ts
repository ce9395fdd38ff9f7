/**
 * Choosing the backend for a run: `docker`, `process`, or `auto` (Docker when an engine answers,
 * otherwise the process backend, said in one line).
 */
import type { LambdaBackend } from '../backend.ts';
import { DockerBackend, type DockerBackendOptions } from '../backends/docker/docker-backend.ts';
import { connectEngine, engineLocationTried } from '../backends/docker/engine.ts';
import { ProcessBackend, type ProcessBackendOptions } from '../backends/process/index.ts';
import { BACKEND_CHOICES, type BackendChoice } from '../config.ts';
import { ConfigError, ErrorCodes } from '../errors.ts';
import { stderrLog } from '../log.ts';

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
    await connectEngine();
    return new DockerBackend({ log, ...options.docker });
  },
  process: async (options, log) => new ProcessBackend({ log, ...options.process }),
};

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
    try {
      return await FACTORIES.docker(options, log);
    } catch {
      log(
        `backend 'auto': no container engine answered (tried ${engineLocationTried()}); running functions as local processes instead.`,
      );
      return FACTORIES.process(options, log);
    }
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
