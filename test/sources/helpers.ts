/** Shared setup of the sources suite: fixture copies in temporary roots, collected warnings. */
import { cp, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

const roots: string[] = [];

/**
 * A fresh copy of a fixture folder as a project root: tests edit files and fill
 * `node_modules/.cache` without touching the repository.
 */
export async function fixtureRoot(name: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), `ltk-sources-${name}-`));
  // Timestamps kept: a copy made in the same millisecond as the first build would otherwise look
  // like a save during that build, and the bundle cache rightly declines such a build.
  await cp(join(fixturesDir, name), root, { recursive: true, preserveTimestamps: true });
  roots.push(root);
  return root;
}

export async function removeFixtureRoots(): Promise<void> {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
}

/** A `warn` sink for `loadFunctionSpecs` that keeps the lines for assertions. */
export function collectWarnings(): { warn: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { warn: (line) => lines.push(line), lines };
}

/** Runs `fn` and returns the error it throws (fails the test when it does not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await fn();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the call resolved');
}

/**
 * Writes `text` as a save made a while ago. The bundle cache does not keep a build whose inputs
 * changed after it started (a save during esbuild); a write in the same millisecond as the next
 * build looks just like that, so tests that expect a cached bundle after an edit write this way.
 */
export async function saveBeforeBuild(path: string, text: string): Promise<void> {
  await writeFile(path, text);
  const earlier = new Date(Date.now() - 10_000);
  await utimes(path, earlier, earlier);
}
