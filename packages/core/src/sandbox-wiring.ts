/**
 * Wiring: what a function's sandbox needs to reach the services of the test run (docs/wiring.md).
 *
 * One configuration means the same on both backends. Functions reach the host through one host
 * name, given to them as `LAMBDA_TESTKIT_HOST`: `127.0.0.1` on the process backend (sandboxes are
 * host processes), `host.lambda-testkit.internal` on Docker (an `/etc/hosts` entry for the gateway of
 * the containers' network, where forwarders answer for the declared ports only). On Docker, loopback
 * URLs in `awsEndpoints` are rewritten to that name, so a config written as `http://127.0.0.1:8000`
 * works on both.
 */
import type { NetworkRef, TestkitConfig } from './config.ts';

/** Set in every sandbox: the host name under which functions reach the host's declared ports. */
export const SANDBOX_HOST_VARIABLE = 'LAMBDA_TESTKIT_HOST';

/** Set in containers that joined the run's `network`: its name. */
export const NETWORK_VARIABLE = 'LAMBDA_TESTKIT_NETWORK';

/** The host name Docker sandboxes resolve to their network's gateway (an ExtraHosts entry). */
export const DOCKER_HOST_ALIAS = 'host.lambda-testkit.internal';

/** Prefix of the session token a sandbox presents to the pool server: it names the calling instance. */
export const INSTANCE_SESSION_PREFIX = 'lambda-testkit-instance.';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What the pool host computes once the backend is known. */
export interface WiringPlan {
  /** Variables for every function (under its own `environment`); part of the deploy id. */
  environment: Record<string, string>;
  /** Host loopback ports functions may reach (declared ones plus those of loopback endpoints). */
  hostPorts: number[];
}

export interface WiringPlanOptions {
  /** The host name sandboxes of the chosen backend reach the host by. */
  sandboxHost: string;
  /** The pool server's port, when functions may invoke functions. */
  serverPort?: number;
}

/** `AWS_ENDPOINT_URL_<SERVICE>` as AWS SDKs name it: the service id upper-cased, spaces and dashes as `_`. */
export function endpointVariable(service: string): string {
  return `AWS_ENDPOINT_URL_${service
    .trim()
    .replace(/[\s-]+/g, '_')
    .toUpperCase()}`;
}

/**
 * The URL as a sandbox must write it: a loopback host becomes `sandboxHost` (unless that is the
 * host's loopback itself). Resolves with the loopback port it needs, if it is one.
 */
export function sandboxUrl(url: string, sandboxHost: string): { url: string; hostPort?: number } {
  const parsed = new URL(url);
  if (!LOOPBACK_HOSTS.has(parsed.hostname)) return { url };
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  // Sandboxes on the host's own loopback reach the URL as written (`localhost` may be ::1 there).
  if (sandboxHost === '127.0.0.1') return { url, hostPort: port };
  parsed.hostname = sandboxHost;
  // URL keeps a trailing `/` on a bare origin; SDKs accept both, users wrote none.
  const text = parsed.pathname === '/' && !url.endsWith('/') ? parsed.href.replace(/\/$/, '') : parsed.href;
  return { url: text, hostPort: port };
}

export function wiringPlan(config: TestkitConfig, options: WiringPlanOptions): WiringPlan {
  const environment: Record<string, string> = { [SANDBOX_HOST_VARIABLE]: options.sandboxHost };
  const ports = new Set<number>(config.hostPorts ?? []);
  const endpoints =
    typeof config.awsEndpoints === 'string' ? { default: config.awsEndpoints } : (config.awsEndpoints ?? {});
  for (const [service, url] of Object.entries(endpoints)) {
    const mapped = sandboxUrl(url, options.sandboxHost);
    if (mapped.hostPort !== undefined) ports.add(mapped.hostPort);
    environment[service === 'default' ? 'AWS_ENDPOINT_URL' : endpointVariable(service)] = mapped.url;
  }
  if (config.functionsCanInvoke && options.serverPort !== undefined) {
    // The pool server itself: reached like any declared host port (on Docker, via its forwarder).
    environment.AWS_ENDPOINT_URL_LAMBDA = `http://${options.sandboxHost}:${options.serverPort}`;
    ports.add(options.serverPort);
  }
  return { environment, hostPorts: [...ports].sort((a, b) => a - b) };
}

/**
 * Credentials of one instance for calls to the pool server: the run token as access key id (the
 * only credential the server accepts) and a session token that names the calling instance, so the
 * pool can see a call chain that waits on itself.
 */
export function instanceCredentials(token: string, instanceId: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: token,
    AWS_SECRET_ACCESS_KEY: 'lambda-testkit-run-token-is-the-access-key-id',
    AWS_SESSION_TOKEN: `${INSTANCE_SESSION_PREFIX}${instanceId}`,
  };
}

/** The instance id a request's `X-Amz-Security-Token` names, if it is one of ours. */
export function callerInstanceId(sessionToken: string | undefined): string | undefined {
  if (!sessionToken?.startsWith(INSTANCE_SESSION_PREFIX)) return undefined;
  return sessionToken.slice(INSTANCE_SESSION_PREFIX.length) || undefined;
}

/** The Docker network name of the `network` option (a name or a Testcontainers StartedNetwork). */
export function networkName(network: string | NetworkRef | undefined): string | undefined {
  if (network === undefined) return undefined;
  return typeof network === 'string' ? network : network.getName();
}
