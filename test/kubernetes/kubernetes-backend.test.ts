/**
 * KubernetesBackend itself on a real cluster: what a Pod looks like (labels, environment, memory
 * limit, no hostPath, no service account token), code delivery of a 20 MB function through
 * ConfigMaps, both ways to the invoke port, launch failures, teardown, and the sweep of Pods whose
 * run was SIGKILLed (by the next run and by `lambda-testkit clean --kubernetes`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BackendError,
  ErrorCodes,
  type KubernetesBackend,
  KubernetesLabels,
  type ResolvedFunction,
  resolveFunction,
} from '@lambda-testkit/core/internal';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  appFunction,
  bigFunctionDir,
  client,
  clusterMissing,
  dockerFixturesDir,
  fixturesDir,
  kubeconfig,
  launchContext,
  localImage,
  namespace,
  newBackend,
  objectsWith,
  podExists,
  requireCluster,
  waitFor,
} from './helpers.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repoRoot, 'packages/core/src/cli/lambda-testkit.ts');
const suiteRun = randomUUID().slice(0, 8);
const run = (name: string) => `${name}-${suiteRun}`;

let backend: KubernetesBackend;

beforeEach(() => requireCluster());

beforeAll(() => {
  if (clusterMissing()) return;
  backend = newBackend();
});

afterAll(async () => {
  if (!backend) return;
  await backend.close();
  expect(backend.instances()).toEqual([]);
});

async function invoke(endpoint: string, payload: unknown) {
  const res = await fetch(`${endpoint}/2015-03-31/functions/function/invocations`, {
    method: 'POST',
    body: JSON.stringify(payload),
  });
  return res.json();
}

/** Starts a process that launches a Pod and is then SIGKILLed: its Pod and Lease are left behind. */
async function orphanPod(runId: string): Promise<{ podName: string; session: string }> {
  const child = spawn(
    process.execPath,
    [
      join(fixturesDir, 'owner-child.ts'),
      kubeconfig(),
      namespace(),
      localImage(),
      join(dockerFixturesDir, 'app'),
      runId,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const launched = await new Promise<{ podName: string; session: string }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { podName: string; session: string });
    });
    child.once('exit', (code) =>
      reject(new Error(`owner child exited (${code}) before launching: ${stderr}`)),
    );
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return launched;
}

describe('KubernetesBackend Pods', () => {
  let fn: ResolvedFunction;
  let launched: Awaited<ReturnType<KubernetesBackend['launch']>>;
  let pod: Awaited<ReturnType<ReturnType<typeof client>['core']['readNamespacedPod']>>;

  beforeAll(async () => {
    if (clusterMissing()) return;
    fn = await appFunction({
      name: 'inspected',
      memorySize: 256,
      environment: { AWS_SECRET_ACCESS_KEY: 'user-given-secret' },
    });
    launched = await backend.launch(fn, launchContext(run('inspect-run'), 'inspect-1'));
    pod = await client().core.readNamespacedPod({ name: launched.handle.podName, namespace: namespace() });
  });

  it('reaches the invoke port through a port-forward on 127.0.0.1 (outside the cluster)', () => {
    expect(backend.access).toBe('port-forward');
    expect(launched.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('labels the Pod with the library, version, run, session, function and deploy id', () => {
    const labels = pod.metadata?.labels ?? {};
    expect(labels).toMatchObject({
      [KubernetesLabels.library]: 'lambda-testkit',
      [KubernetesLabels.runId]: run('inspect-run'),
      [KubernetesLabels.instanceId]: 'inspect-1',
      [KubernetesLabels.functionName]: 'inspected',
      [KubernetesLabels.session]: backend.session,
      [KubernetesLabels.role]: 'instance',
    });
    expect(labels[KubernetesLabels.version]).toMatch(/^\d+\.\d+\.\d+/);
    // Values too long or too free for a label are whole in the annotations.
    expect(pod.metadata?.annotations?.[KubernetesLabels.deployId]).toBe(fn.deployId);
    expect(pod.metadata?.annotations?.[KubernetesLabels.ownerPid]).toBe(String(process.pid));
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Lease' });
  });

  it('requests CPU and memory, and limits memory to memorySize', () => {
    const resources = pod.spec?.containers[0]?.resources;
    expect(resources?.limits).toEqual({ memory: '256Mi' });
    expect(resources?.requests?.memory).toBe('256Mi');
    expect(resources?.requests?.cpu).toBe('145m');
  });

  it('runs the image entrypoint with the handler, no hostPath, no service account token, no service links', () => {
    const spec = pod.spec;
    expect(spec?.containers[0]?.args).toEqual(['index.handler']);
    expect(spec?.containers[0]?.command).toBeUndefined();
    expect(spec?.containers[0]?.image).toBe(localImage());
    expect(spec?.volumes?.some((v) => v.hostPath)).toBe(false);
    expect(spec?.automountServiceAccountToken).toBe(false);
    expect(spec?.enableServiceLinks).toBe(false);
    expect(spec?.restartPolicy).toBe('Never');
  });

  it('sets the Lambda environment: timeout, memory, region, dummy credentials unless given', () => {
    const env = Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'inspected',
      AWS_LAMBDA_FUNCTION_TIMEOUT: '10',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_REGION: 'eu-west-1',
      AWS_SECRET_ACCESS_KEY: 'user-given-secret',
      LAMBDA_TESTKIT_RUNTIME: 'nodejs22.x',
    });
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^AKIA/);
    expect(env.AWS_LAMBDA_RUNTIME_API).toBeUndefined();
  });

  it('answers on the endpoint and logs through logs(handle)', async () => {
    const capture = backend.logs(launched.handle)?.capture();
    expect(await invoke(launched.endpoint, { direct: true })).toMatchObject({ echo: { direct: true } });
    const logs = await capture?.finish(10_000);
    // A cold start: INIT_START first, then START (Lambda's order).
    expect(logs?.lines[0]).toMatch(/^INIT_START Runtime Version: /);
    expect(logs?.lines).toContain(`START RequestId: ${logs?.requestId} Version: $LATEST`);
    expect(logs?.lines.at(-1)).toMatch(/^REPORT RequestId: /);
  });

  it('terminate deletes the Pod and is idempotent (also in parallel)', async () => {
    const { handle } = launched;
    await Promise.all([backend.terminate(handle), backend.terminate(handle)]);
    await backend.terminate(handle);
    expect(await podExists(handle.podName)).toBe(false);
  });
});

describe('code delivery', () => {
  it('a 20 MB function (one 12 MB file, eighty 100 KB files) arrives byte for byte through ConfigMaps', async () => {
    const big = await bigFunctionDir();
    try {
      expect(big.bytes).toBeGreaterThan(20 * 1000 * 1000);
      const fn = await resolveFunction(
        {
          name: 'big',
          runtime: 'nodejs22.x',
          handler: 'index.handler',
          code: big.dir,
          image: localImage(),
          timeout: 30,
        },
        { root: big.dir },
      );
      const own = newBackend();
      try {
        const { endpoint } = await own.launch(fn, launchContext(run('big-run'), 'big-1'));
        const answer = await invoke(endpoint, { files: Object.keys(big.hashes) });
        expect(answer).toEqual(big.hashes);
        const { configMaps } = await objectsWith(own.selector);
        expect(configMaps.length).toBeGreaterThan(20);
        const sizes = await Promise.all(
          configMaps.map(async (name) => {
            const map = await client().core.readNamespacedConfigMap({ name, namespace: namespace() });
            return Object.values(map.binaryData ?? {}).reduce(
              (n, v) => n + Buffer.from(v, 'base64').length,
              0,
            );
          }),
        );
        for (const size of sizes) expect(size).toBeLessThan(1024 * 1024);
      } finally {
        await own.close();
      }
      expect(await objectsWith(own.selector)).toEqual({ pods: [], configMaps: [], leases: [] });
    } finally {
      await rm(big.dir, { recursive: true, force: true });
    }
  });
});

describe('reaching the Pod IP directly (as from a Pod of the cluster)', () => {
  it("access: 'pod-ip' returns the Pod's own address, which answers", async () => {
    const own = newBackend({ access: 'pod-ip' });
    try {
      const { endpoint, handle } = await own.launch(
        await appFunction({ name: 'direct' }),
        launchContext(run('ip-run'), 'ip-1'),
      );
      const pod = await client().core.readNamespacedPod({ name: handle.podName, namespace: namespace() });
      expect(endpoint).toBe(`http://${pod.status?.podIP}:8080`);
      expect(await invoke(endpoint, { via: 'pod-ip' })).toMatchObject({ echo: { via: 'pod-ip' } });
    } finally {
      await own.close();
    }
  });
});

describe('launch failures', () => {
  it('an image the nodes cannot get fails the launch with IMAGE_UNAVAILABLE naming it, and leaves no Pod', async () => {
    const own = newBackend({ imagePullPolicy: 'Never' });
    try {
      const image = 'lambda-testkit/not-on-any-node:never';
      const error = await own
        .launch(await appFunction({ name: 'noimage', image }), launchContext(run('noimage-run'), 'noimage-1'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
      expect((error as Error).message).toContain(image);
      expect((await objectsWith(own.selector)).pods).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('a runtime that exits at start fails the launch with its exit code and output', async () => {
    const fn = await appFunction({
      name: 'broken',
      environment: { LAMBDA_TESTKIT_EMULATOR: '/nonexistent/emulator' },
    });
    const error = await backend
      .launch(fn, launchContext(run('broken-run'), 'broken-1'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.LAUNCH_FAILED });
    expect((error as Error).message).toMatch(/exited while starting \(code 127/);
    expect((error as Error).message).toContain('/nonexistent/emulator');
    expect(backend.instances()).toEqual([]);
  });
});

describe('teardown and the sweep of dead runs', () => {
  it('close() deletes every Pod, ConfigMap and the Lease it created', async () => {
    const own = newBackend();
    await own.launch(await appFunction({ name: 'one' }), launchContext(run('close-run'), 'c-1'));
    await own.launch(
      await appFunction({ name: 'two', environment: { X: '2' } }),
      launchContext(run('close-run'), 'c-2'),
    );
    const before = await objectsWith(own.selector);
    expect(before.pods).toHaveLength(2);
    expect(before.configMaps.length).toBeGreaterThan(0);
    expect(before.leases).toHaveLength(1);
    await own.close();
    expect(await objectsWith(own.selector)).toEqual({ pods: [], configMaps: [], leases: [] });
  });

  it('the next run sweeps a SIGKILLed run (Pod, ConfigMaps, Lease) and leaves live runs alone', async () => {
    const live = await backend.launch(
      await appFunction({ name: 'live' }),
      launchContext(run('live-run'), 'live-1'),
    );
    const orphan = await orphanPod(run('orphan-a'));
    const orphanSelector = `${KubernetesLabels.session}=${orphan.session}`;
    expect((await objectsWith(orphanSelector)).pods).toEqual([orphan.podName]);
    const fresh = newBackend();
    try {
      await fresh.launch(await appFunction({ name: 'fresh' }), launchContext(run('fresh-run'), 'fresh-1'));
      expect(await objectsWith(orphanSelector)).toEqual({ pods: [], configMaps: [], leases: [] });
      expect(await podExists(live.handle.podName)).toBe(true);
    } finally {
      await fresh.close();
      await backend.terminate(live.handle);
    }
  });

  it('`lambda-testkit clean --kubernetes` removes what a SIGKILLed run left', async () => {
    const orphan = await orphanPod(run('orphan-b'));
    const result = spawnSync(
      process.execPath,
      [cli, 'clean', '--kubernetes', '--kubeconfig', kubeconfig(), '--namespace', namespace()],
      { encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(orphan.podName);
    expect(result.stdout).toMatch(/\d+ Pod\(s\) removed/);
    await waitFor(async () => !(await podExists(orphan.podName)), 60_000, 'the orphan Pod to be gone');
    expect(await objectsWith(`${KubernetesLabels.session}=${orphan.session}`)).toEqual({
      pods: [],
      configMaps: [],
      leases: [],
    });
  });
});
