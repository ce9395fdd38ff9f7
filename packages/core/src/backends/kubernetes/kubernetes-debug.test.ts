/**
 * `debug` on the Kubernetes backend is refused with LTK_DEBUG_UNSUPPORTED before anything reaches a
 * cluster: this runs without one (the kubeconfig points at a port nothing listens on).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes } from '../../errors.ts';
import { launchFailed } from '../../pool/pool-errors.ts';
import { resolvedFunction } from '../../testing/resolved-function.ts';
import { KubernetesBackend } from './kubernetes-backend.ts';

let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ltk-k8s-debug-'));
  kubeconfig = join(dir, 'kubeconfig');
  // A cluster that cannot answer: any request to it would fail with KUBERNETES_UNAVAILABLE instead.
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: none, cluster: { server: "https://127.0.0.1:1" } }]',
      'users: [{ name: none, user: { token: x } }]',
      'contexts: [{ name: none, context: { cluster: none, user: none, namespace: ltk } }]',
      'current-context: none',
      '',
    ].join('\n'),
  );
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const context = { instanceId: 'i-1', runId: 'run-1', region: 'us-east-1', accountId: '123456789012' };

describe('debug on the Kubernetes backend', () => {
  it('is refused with LTK_DEBUG_UNSUPPORTED, naming the function and the fix, without a cluster', async () => {
    const backend = new KubernetesBackend({ kubeconfig, reapOnStart: false, log: () => {} });
    const fn = resolvedFunction({ name: 'orders', debug: { wait: false } });
    const error = await backend.launch(fn, context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      code: ErrorCodes.DEBUG_UNSUPPORTED,
      details: { function: 'orders', backend: 'kubernetes' },
    });
    expect((error as Error).message).toMatch(/"orders" has debug on.*Kubernetes/);
    expect((error as Error).message).toMatch(/LAMBDA_TESTKIT_BACKEND=process or docker/);
    // The pool hands a ConfigError to the caller as it is, not wrapped in LTK_LAUNCH_FAILED.
    expect(launchFailed('orders', 'kubernetes', error)).toBe(error);
    await backend.close();
  });

  it('lets a function without debug go on to the cluster (which is unreachable here)', async () => {
    const backend = new KubernetesBackend({ kubeconfig, reapOnStart: false, log: () => {} });
    const error = await backend.launch(resolvedFunction({ name: 'orders' }), context).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: ErrorCodes.KUBERNETES_UNAVAILABLE });
    await backend.close();
  });
});
