/** Shared pieces of the Docker suite: fixture functions on the local image, engine access, polling. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  connectEngine,
  type FunctionSpec,
  type ResolvedFunction,
  resolveFunction,
} from '@lambda-testkit/core';
import { inject } from 'vitest';

export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** True when the global setup found no engine (hooks then do nothing; `requireDocker()` fails each test). */
export function dockerMissing(): boolean {
  return inject('dockerError') !== '';
}

/**
 * Fails the calling test (or hook) when the global setup found no engine or could not build the
 * image. Each file calls it in `beforeEach`, so that every one of its tests fails loudly with the reason
 * (a failing `beforeAll` would mark them skipped instead).
 */
export function requireDocker(): void {
  const error = inject('dockerError');
  if (error) throw new Error(`The Docker suite needs a container engine and the local image: ${error}`);
}

/** The locally built image (global setup), used through the per-function image override. */
export function localImage(): string {
  requireDocker();
  return inject('localImage');
}

export function appFunction(overrides: Partial<FunctionSpec> = {}): Promise<ResolvedFunction> {
  return resolveFunction(
    {
      name: 'app',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      code: join(fixturesDir, 'app'),
      timeout: 10,
      image: localImage(),
      ...overrides,
    },
    { root: fixturesDir },
  );
}

/** The engine client (dockerode) that Testcontainers uses. */
export type Engine = Awaited<ReturnType<typeof connectEngine>>['container']['dockerode'];

export async function docker(): Promise<Engine> {
  return (await connectEngine()).container.dockerode;
}

export function json(payload: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(payload));
}

/** True while the engine knows the container (running or not). */
export async function containerExists(id: string): Promise<boolean> {
  try {
    await (await docker()).getContainer(id).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function launchContext(runId: string, instanceId: string) {
  return { runId, instanceId, region: 'eu-west-1', accountId: '111122223333' };
}
