/**
 * Readiness of a Lambda container: a TCP connection to the published invoke port that a real
 * server inside the container answers.
 *
 * Why more than a bare connect: for a published port, Docker's userland proxy accepts on the host
 * before the process in the container listens, then closes the connection when it cannot reach it
 * (moby/moby#16976, moby/moby#53357). So a connect alone says "the proxy is up", not "RIE is up".
 * The check sends one HTTP request for a path that is NOT the invoke route (RIE's only route is
 * `/2015-03-31/functions/function/invocations`, and it invokes for any method:
 * docs/lambda-apis.md#rie-invoke-route) and counts any answer (a 404) as ready. Testcontainers' default
 * wait strategy would also exec a shell command in the container, which a minimal image may not support.
 */
import type Dockerode from 'dockerode';
import { BackendError, ErrorCodes } from '../../errors.ts';
import { probeHttp } from '../shared/probe-http.ts';

export { probeHttp } from '../shared/probe-http.ts';

const RETRY_DELAY_MS = 10;
const ATTEMPT_TIMEOUT_MS = 1_000;

/** Resolves once something answers HTTP on host:port; fails when the container exits or the time is up. */
export async function waitForInvokeEndpoint(
  container: Dockerode.Container,
  host: string,
  port: number,
  startupTimeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + startupTimeoutMs;
  let attempts = 0;
  while (Date.now() < deadline) {
    attempts += 1;
    if (await probeHttp(host, port, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now()))) return;
    // A container that exited will never answer: fail now, with its exit code, not at the deadline.
    if (attempts % 8 === 0) {
      const state = (await container.inspect()).State;
      if (!state.Running) {
        throw new BackendError(
          ErrorCodes.LAUNCH_FAILED,
          `The container exited (code ${state.ExitCode}) while starting, before its invoke endpoint answered.`,
          { details: { containerId: container.id, exitCode: state.ExitCode } },
        );
      }
    }
    await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
  }
  throw new BackendError(
    ErrorCodes.LAUNCH_FAILED,
    `The container's invoke endpoint (${host}:${port}) did not answer within ${startupTimeoutMs} ms ` +
      '(the startup timeout; image pulls are not counted). Raise "startupTimeoutMs" if the image starts slowly.',
    { details: { containerId: container.id, port } },
  );
}
