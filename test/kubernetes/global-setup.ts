/**
 * Once per suite: the cluster of LAMBDA_TESTKIT_KUBECONFIG answers, and the local Lambda image
 * (built from this checkout, no registry) is in the cluster's image store.
 *
 * No registry is reachable, so the image goes to the nodes by a command given in
 * LAMBDA_TESTKIT_KUBERNETES_LOAD_IMAGE, run with the image tag as its last argument (CI:
 * `scripts/kubernetes-cluster.sh load-image`; for kind: `kind load docker-image`). Without it the
 * cluster must already have the image.
 *
 * Like the Docker suite's setup, this never throws: it hands the reason to the test files, whose every
 * test then fails with it.
 */
import { spawnSync } from 'node:child_process';
import { clusterClient } from '@lambda-testkit/core/internal';
import type { TestProject } from 'vitest/node';
import { ensureLocalImage } from '../image/local-image.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    k8sImage: string;
    k8sError: string;
    kubeconfig: string;
    k8sNamespace: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const kubeconfig = process.env.LAMBDA_TESTKIT_KUBECONFIG ?? '';
  const namespace = process.env.LAMBDA_TESTKIT_KUBERNETES_NAMESPACE || 'default';
  project.provide('kubeconfig', kubeconfig);
  project.provide('k8sNamespace', namespace);
  try {
    if (!kubeconfig) throw new Error('LAMBDA_TESTKIT_KUBECONFIG is not set (the path of a kubeconfig)');
    const client = clusterClient({ kubeconfig });
    const nodes = await client.core.listNode();
    if (nodes.items.length === 0) throw new Error(`the cluster ${client.server} has no node`);
    const image = await ensureLocalImage({
      onProgress: (m) => process.stderr.write(`[kubernetes suite] ${m}\n`),
    });
    const load = process.env.LAMBDA_TESTKIT_KUBERNETES_LOAD_IMAGE;
    if (load) {
      const result = spawnSync('sh', ['-c', `${load} "$0"`, image.tag], { encoding: 'utf8' });
      if (result.status !== 0) {
        throw new Error(
          `loading ${image.tag} into the cluster failed (${load}): ${result.stderr}${result.stdout}`,
        );
      }
    }
    project.provide('k8sImage', image.tag);
    project.provide('k8sError', '');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[kubernetes suite] every test of this suite will fail: ${message}\n`);
    project.provide('k8sImage', '');
    project.provide('k8sError', message);
  }
}
