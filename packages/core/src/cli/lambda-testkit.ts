#!/usr/bin/env node
/**
 * The `lambda-testkit` command.
 *
 *   lambda-testkit clean [--all]            remove what runs whose process is gone left behind
 *   lambda-testkit clean --kubernetes       the same in a Kubernetes namespace (Pods, ConfigMaps, Leases)
 *   lambda-testkit build-image [--tag t]    build the local Lambda-compatible Node image (no registry needed)
 *
 * It talks to the engine through Testcontainers/dockerode (the Docker API), never the docker CLI, and
 * to Kubernetes through @kubernetes/client-node, never kubectl.
 */
import { parseArgs } from 'node:util';
import { connectEngine } from '../backends/docker/engine.ts';
import { buildLocalImage, localImageTag } from '../backends/docker/local-image.ts';
import { reapStaleContainers } from '../backends/docker/reap-stale.ts';
import { checkCluster, clusterClient } from '../backends/kubernetes/cluster-client.ts';
import { reapStaleObjects } from '../backends/kubernetes/reap-stale.ts';
import { defaultRootDir, sweepStaleRuns } from '../backends/process/run-root.ts';
import { ErrorCodes, isTestkitError } from '../errors.ts';

const USAGE = `Usage: lambda-testkit <command> [options]

Commands:
  clean [--all]                     Remove what lambda-testkit runs left behind when their process died
                                    (a crash, SIGKILL): process-backend sandboxes under
                                    ${defaultRootDir()} and containers. --all removes every
                                    lambda-testkit container, including those of runs still going.
  clean --kubernetes [--kubeconfig <file>] [--context <name>] [--namespace <ns>] [--all]
                                    The same in a Kubernetes namespace (default: the context's, else
                                    default): Pods, code ConfigMaps and Leases of runs whose Lease
                                    expired or whose process on this host is gone, wherever they ran.
  build-image [--tag <name:tag>] [--force]
                                    Build the local Lambda-compatible Node image from this machine's Node
                                    and lambda-testkit's emulator, without any registry
                                    (default tag: ${localImageTag()}). Select it with the image override.
  help                              Print this text.
`;

async function cleanKubernetes(values: {
  all?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}): Promise<number> {
  const client = clusterClient({ kubeconfig: values.kubeconfig, context: values.context });
  const namespace =
    values.namespace ?? client.config.getContextObject(client.config.currentContext)?.namespace ?? 'default';
  await checkCluster(client, namespace, values);
  const removed = await reapStaleObjects({ client, namespace, all: values.all ?? false });
  for (const p of removed.pods) {
    console.log(`removed Pod ${p.name} (function "${p.functionName}", run ${p.runId})`);
  }
  console.log(
    `${removed.pods.length} Pod(s) removed, with ${removed.configMaps.length} ConfigMap(s) and ` +
      `${removed.leases.length} Lease(s), from namespace ${namespace} (${removed.sessions.length} gone run(s)).`,
  );
  return 0;
}

async function clean(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      all: { type: 'boolean', default: false },
      kubernetes: { type: 'boolean', default: false },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      namespace: { type: 'string' },
    },
  });
  if (values.kubernetes) return cleanKubernetes(values);
  // Process-backend sandboxes first: they need no engine, and a machine without Docker has only those.
  const sandboxes = await sweepStaleRuns(defaultRootDir(), { graceMs: 2_000 });
  console.log(`${sandboxes} process sandbox(es) removed from ${defaultRootDir()}.`);
  let client: Awaited<ReturnType<typeof connectEngine>>;
  try {
    client = await connectEngine();
  } catch (error) {
    // Nothing to clean there if no engine answers; say so rather than fail the sandbox sweep.
    if (!isTestkitError(error, ErrorCodes.DOCKER_UNAVAILABLE)) throw error;
    console.log(`containers not checked: ${error.message}`);
    return 0;
  }
  const removed = await reapStaleContainers({ docker: client.container.dockerode, all: values.all ?? false });
  for (const c of removed) {
    console.log(
      `removed ${c.name || c.id.slice(0, 12)} (function "${c.functionName}", run ${c.runId}, owner pid ${c.ownerPid}, ${c.state})`,
    );
  }
  console.log(`${removed.length} container(s) removed.`);
  return 0;
}

async function buildImage(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { tag: { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  const image = await buildLocalImage({
    ...(values.tag ? { tag: values.tag } : {}),
    force: values.force ?? false,
    onProgress: (m) => console.error(m),
  });
  console.log(image.tag);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'clean':
      return clean(rest);
    case 'build-image':
      return buildImage(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`lambda-testkit: unknown command "${command}".\n\n${USAGE}`);
      return 1;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (isTestkitError(error)) {
    process.stderr.write(`lambda-testkit: ${error.message} [${error.code}]\n`);
  } else if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`lambda-testkit: ${error.message}\n\n${USAGE}`);
  } else {
    process.stderr.write(
      `lambda-testkit: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exitCode = 1;
}
