/**
 * Reaching the container engine: the Testcontainers runtime client (it knows DOCKER_HOST, Docker
 * contexts, `~/.testcontainers.properties`, rootless sockets) behind one clear error when nothing answers.
 */
import { existsSync } from 'node:fs';
import Dockerode from 'dockerode';
import { type ContainerRuntimeClient, getContainerRuntimeClient } from 'testcontainers';
import { BackendError, ErrorCodes } from '../../errors.ts';

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** How long a DOCKER_HOST probe may take before the engine counts as absent. */
const PROBE_TIMEOUT_MS = 5_000;

/** DOCKER_HOST without any user:password part (it is printed in error messages). */
function redactedDockerHost(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//***@');
}

/** A sentence saying where an engine was looked for. */
export function engineLocationTried(env: NodeJS.ProcessEnv = process.env): string {
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost) return `DOCKER_HOST=${redactedDockerHost(dockerHost)}`;
  const socket = existsSync(DEFAULT_SOCKET) ? DEFAULT_SOCKET : `${DEFAULT_SOCKET} (it does not exist)`;
  return `the default socket ${socket}; DOCKER_HOST is not set`;
}

export function dockerUnavailableError(cause?: unknown): BackendError {
  const reason = cause instanceof Error ? ` (${cause.message})` : '';
  return new BackendError(
    ErrorCodes.DOCKER_UNAVAILABLE,
    `No container engine answered. Tried ${engineLocationTried()}${reason}. ` +
      'Start Docker (or Podman/Colima with its Docker socket), set DOCKER_HOST to a running engine, ' +
      "or use backend 'process' to run the functions as local processes without Docker.",
    { cause, details: { tried: engineLocationTried() } },
  );
}

/**
 * The Testcontainers runtime client, or BackendError DOCKER_UNAVAILABLE.
 *
 * Why the extra probe: Testcontainers tries its strategies in turn, so a DOCKER_HOST that does not
 * answer silently falls through to the default socket. A user who pointed DOCKER_HOST at an engine
 * meant that engine; running on another one instead would be a surprise, so it is an error here.
 */
export async function connectEngine(): Promise<ContainerRuntimeClient> {
  if (process.env.DOCKER_HOST) {
    // docker-modem reads DOCKER_HOST (unix://, tcp://, npipe://, ssh://) and the TLS variables itself.
    try {
      await new Dockerode({ timeout: PROBE_TIMEOUT_MS }).ping();
    } catch (error) {
      throw dockerUnavailableError(error);
    }
  }
  try {
    return await getContainerRuntimeClient();
  } catch (error) {
    throw dockerUnavailableError(error);
  }
}

/** True when an engine answers (for `backend: 'auto'`). Never throws. */
export async function isEngineAvailable(): Promise<boolean> {
  try {
    await connectEngine();
    return true;
  } catch {
    return false;
  }
}
