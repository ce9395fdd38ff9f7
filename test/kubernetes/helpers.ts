/** Shared pieces of the Kubernetes suite: the cluster client, fixture functions on the local image. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ClusterClient,
  clusterClient,
  type FunctionSpec,
  KubernetesBackend,
  type KubernetesBackendOptions,
  type ResolvedFunction,
  resolveFunction,
} from '@lambda-testkit/core/internal';
import { inject } from 'vitest';

export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The Docker suite's fixtures (the same app and layers run on both backends). */
export const dockerFixturesDir = fileURLToPath(new URL('../docker/fixtures/', import.meta.url));

/** Fails the calling test when the global setup found no cluster or could not load the image. */
export function requireCluster(): void {
  const error = inject('k8sError');
  if (error) throw new Error(`The Kubernetes suite needs a cluster and the local image: ${error}`);
}

export function clusterMissing(): boolean {
  return inject('k8sError') !== '';
}

export function localImage(): string {
  requireCluster();
  return inject('k8sImage');
}

export function kubeconfig(): string {
  return inject('kubeconfig');
}

export function namespace(): string {
  return inject('k8sNamespace');
}

export function client(): ClusterClient {
  return clusterClient({ kubeconfig: kubeconfig() });
}

export function newBackend(options: KubernetesBackendOptions = {}): KubernetesBackend {
  return new KubernetesBackend({
    kubeconfig: kubeconfig(),
    namespace: namespace(),
    log: () => {},
    ...options,
  });
}

export function appFunction(overrides: Partial<FunctionSpec> = {}): Promise<ResolvedFunction> {
  return resolveFunction(
    {
      name: 'app',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      code: join(dockerFixturesDir, 'app'),
      timeout: 10,
      image: localImage(),
      ...overrides,
    },
    { root: dockerFixturesDir },
  );
}

export function json(payload: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(payload));
}

export function launchContext(runId: string, instanceId: string) {
  return { runId, instanceId, region: 'eu-west-1', accountId: '111122223333' };
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** True while the API server knows the Pod. */
export async function podExists(name: string): Promise<boolean> {
  try {
    await client().core.readNamespacedPod({ name, namespace: namespace() });
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  }
}

/** Names of the Pods, ConfigMaps and Leases that carry `labelSelector`. */
export async function objectsWith(labelSelector: string) {
  const c = client();
  const ns = namespace();
  const [pods, maps, leases] = await Promise.all([
    c.core.listNamespacedPod({ namespace: ns, labelSelector }),
    c.core.listNamespacedConfigMap({ namespace: ns, labelSelector }),
    c.coordination.listNamespacedLease({ namespace: ns, labelSelector }),
  ]);
  return {
    pods: pods.items.map((p) => p.metadata?.name ?? ''),
    configMaps: maps.items.map((m) => m.metadata?.name ?? ''),
    leases: leases.items.map((l) => l.metadata?.name ?? ''),
  };
}

/**
 * A function of about 20 MB (well over one ConfigMap's 1 MiB): one 12 MB file (cut into parts) and
 * eighty 100 KB files in nested folders, random bytes, plus a handler that reports the SHA-256 of each.
 * Returns the folder and the expected hashes.
 */
export async function bigFunctionDir(): Promise<{
  dir: string;
  hashes: Record<string, string>;
  bytes: number;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'ltk-k8s-big-'));
  const hashes: Record<string, string> = {};
  let bytes = 0;
  const put = async (rel: string, data: Buffer) => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), data);
    hashes[rel] = createHash('sha256').update(data).digest('hex');
    bytes += data.length;
  };
  await put('data/big.bin', randomBytes(12 * 1024 * 1024));
  for (let i = 0; i < 80; i++) await put(`data/small/${i % 8}/part-${i}.bin`, randomBytes(100 * 1024));
  await writeFile(
    join(dir, 'index.js'),
    [
      "const { createHash } = require('node:crypto');",
      "const { readFileSync } = require('node:fs');",
      'exports.handler = async (event) => Object.fromEntries(',
      '  event.files.map((f) => [f, createHash("sha256").update(readFileSync("/var/task/" + f)).digest("hex")]),',
      ');',
      '',
    ].join('\n'),
  );
  return { dir, hashes, bytes };
}
