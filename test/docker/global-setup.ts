/**
 * Once per suite: an engine must answer (else DOCKER_UNAVAILABLE fails the suite, never a skip),
 * and the local image is built from this checkout's emulator (skipped when its content hash matches).
 */
import { connectEngine } from '@lambda-testkit/core';
import type { TestProject } from 'vitest/node';
import { ensureLocalImage } from '../image/local-image.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    localImage: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  // Ryuk's image cannot be pulled here; the backend's own label sweep covers crashed runs.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  await connectEngine();
  const image = await ensureLocalImage({ onProgress: (m) => process.stderr.write(`[docker suite] ${m}\n`) });
  project.provide('localImage', image.tag);
}
