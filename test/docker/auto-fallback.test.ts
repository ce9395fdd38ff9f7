/**
 * `backend: 'auto'` where Docker answers and no registry does: a Node.js function whose image cannot
 * be had runs as a local process, said in one line, while the others run in containers, in one
 * run whose stats, stop-all and sweeps cover both. An explicit `backend: 'docker'` stays strict.
 * (The absent image is a name no registry serves, so the test holds wherever it runs.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PoolClient } from '@lambda-testkit/core/client';
import {
  acquirePoolHost,
  ContainerLabels,
  ENV_BACKEND,
  ENV_IMAGE,
  ErrorCodes,
  type FunctionDeclaration,
  type PoolHostHandle,
  releasePoolHost,
  type TestkitConfig,
} from '@lambda-testkit/core/internal';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { docker, fixturesDir, localImage, requireDocker } from './helpers.ts';

const ABSENT_IMAGE = 'lambda-testkit-test/absent-image:never';

let client: PoolClient | undefined;

beforeEach(() => {
  requireDocker();
  // The run's own overrides would decide the backend and image of every function.
  vi.stubEnv(ENV_BACKEND, '');
  vi.stubEnv(ENV_IMAGE, '');
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  await releasePoolHost({ keepAlive: false });
  vi.unstubAllEnvs();
});

function functions(): Record<string, FunctionDeclaration> {
  const app = {
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    code: join(fixturesDir, 'app'),
    timeout: 10,
  };
  return {
    boxed: { ...app, image: localImage() },
    local: { ...app, image: ABSENT_IMAGE },
  };
}

async function start(config: TestkitConfig): Promise<{ handle: PoolHostHandle; lines: string[] }> {
  const lines: string[] = [];
  const handle = await acquirePoolHost(config, { root: fixturesDir, log: (line) => lines.push(line) });
  client = new PoolClient({ url: handle.url, token: handle.token });
  return { handle, lines };
}

async function runContainers(runId: string): Promise<number> {
  const containers = await (await docker()).listContainers({
    all: true,
    filters: { label: [`${ContainerLabels.runId}=${runId}`] },
  });
  return containers.length;
}

describe("backend 'auto' with Docker and no registry", () => {
  it('runs the function whose image cannot be had as a process, says so in one line, and keeps the pool rules', async () => {
    const { handle, lines } = await start({ backend: 'auto', functions: functions() });
    const notices = lines.filter((line) => line.includes('instead'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('local: run on the process backend instead');
    expect(notices[0]).toContain(ABSENT_IMAGE);
    expect(notices[0]).not.toContain('boxed');

    type Env = { taskRoot: string; functionName: string; sandbox?: string };
    const [boxed, local] = await Promise.all([
      client!.invoke<Env>('boxed', { action: 'env' }),
      client!.invoke<Env>('local', { action: 'env' }),
    ]);
    expect(boxed.payload).toMatchObject({ functionName: 'boxed', taskRoot: '/var/task' }); // in a container
    expect(local.payload.functionName).toBe('local');
    // A process of this machine, confined: Lambda's path too (docs/emulator.md#file-system); the one
    // container counted below is boxed's.
    expect(local.payload.taskRoot).toBe('/var/task');
    const folder = local.payload.sandbox ?? '';
    expect(existsSync(join(folder, 'task', 'index.js'))).toBe(true);
    expect(boxed.payload.sandbox).toBeUndefined();

    const runId = handle.host.pool.runId;
    expect(await runContainers(runId)).toBe(1);
    const stats = await client!.stats();
    expect(stats.boxed).toMatchObject({ invocations: 1, coldStarts: 1 });
    expect(stats.local).toMatchObject({ invocations: 1, coldStarts: 1 });

    // Evict goes through each instance's own backend; the next call is cold on the same backend.
    await client!.evict('local');
    await vi.waitFor(() => expect(existsSync(folder)).toBe(false), { timeout: 10_000 });
    const again = await client!.invoke<Env>('local', { action: 'env' });
    expect(again.coldStart).toBe(true);
    expect(again.payload.sandbox).toBeDefined();
    expect(again.payload.sandbox).not.toBe(folder);

    // Stop-all: the container and the process sandbox are both gone.
    await releasePoolHost({ keepAlive: false });
    expect(await runContainers(runId)).toBe(0);
    expect(existsSync(again.payload.sandbox ?? '')).toBe(false);
  });

  it("an explicit backend: 'docker' stays strict: the setup stops with IMAGE_UNAVAILABLE naming the image", async () => {
    const error = await start({ backend: 'docker', functions: functions() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
    expect((error as Error).message).toContain(ABSENT_IMAGE);
  });

  it('a runtime the process backend cannot run keeps the image error under auto', async () => {
    const error = await start({
      backend: 'auto',
      functions: {
        report: {
          runtime: 'python3.13',
          handler: 'index.handler',
          code: join(fixturesDir, 'python-app'),
          image: ABSENT_IMAGE,
        },
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.IMAGE_UNAVAILABLE });
  });
});
