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

/** The locally built image (global setup), used through the per-function image override. */
export function localImage(): string {
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

/** The engine client (dockerode) Testcontainers uses. */
export async function docker() {
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
