/**
 * Once per suite: an engine must answer, and the local image is built from this checkout's emulator
 * (skipped when its content hash matches).
 *
 * Without an engine this does not throw: a global setup that throws aborts the whole Vitest run,
 * every other project's tests included, and leaves no per-test result. It hands the error to the
 * test files instead, whose every test then FAILS with it (never a skip): see `requireDocker()`.
 */
import { connectEngine } from '@lambda-testkit/core';
import type { TestProject } from 'vitest/node';
import { ensureLocalImage } from '../image/local-image.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    localImage: string;
    /** Set when no engine answered or the image could not be built: the reason, to fail every test with. */
    dockerError: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  try {
    await connectEngine();
    const image = await ensureLocalImage({
      onProgress: (m) => process.stderr.write(`[docker suite] ${m}\n`),
    });
    project.provide('localImage', image.tag);
    project.provide('dockerError', '');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[docker suite] every test of this suite will fail: ${message}\n`);
    project.provide('localImage', '');
    project.provide('dockerError', message);
  }
}
