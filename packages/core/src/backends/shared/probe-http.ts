/**
 * One readiness attempt on an invoke port: an HTTP request that something must answer. A bare
 * connect is not enough where a proxy accepts before the server listens (Docker's userland proxy,
 * a Kubernetes port-forward). The path is NOT the invoke route (RIE invokes for any method on
 * `/2015-03-31/functions/function/invocations`: docs/lambda-apis.md#rie-invoke-route), so any
 * answer (a 404) means the emulator is up and nothing was invoked.
 */
import { connect } from 'node:net';

const PROBE_PATH = '/lambda-testkit/readiness';
const ATTEMPT_TIMEOUT_MS = 1_000;

/** One attempt: true when something answered an HTTP request on host:port. */
export function probeHttp(host: string, port: number, timeoutMs = ATTEMPT_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('data', () => done(true));
    socket.once('connect', () => {
      socket.write(`GET ${PROBE_PATH} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
    });
  });
}
