/**
 * Choosing the backend for a run: `docker`, `process`, or `auto` (Docker when an engine answers,
 * otherwise the process backend, said in one line).
 */
import type { LambdaBackend } from '../../backend.ts';
import type { BackendChoice } from '../../config.ts';
import { ConfigError, ErrorCodes } from '../../errors.ts';
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
}

const BACKEND_CHOICES: readonly BackendChoice[] = ['docker', 'process', 'auto'];

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
  switch (choice) {
    case 'process':
      return new ProcessBackend({ log, ...options.process });
    case 'docker':
      await connectEngine();
      return docker();
    case 'auto':
      try {
        await connectEngine();
        return docker();
      } catch {
        log(
          `backend 'auto': no container engine answered (tried ${engineLocationTried()}); running functions as local processes instead.`,
        );
        return new ProcessBackend({ log, ...options.process });
      }
    default:
      throw new ConfigError(
        ErrorCodes.CONFIG_INVALID,
        `Unknown backend "${String(choice)}". Expected one of: ${BACKEND_CHOICES.join(', ')}.`,
        { details: { backend: choice } },
      );
  }
}
