/**
 * The locally built Lambda image for this repository's Docker suites (no registry is reachable in CI).
 *
 * The suites run core from its TypeScript sources, so the emulator and bootstrap that go into the
 * image are compiled here, from `packages/core/src/{emulator,bootstrap}`, into a scratch folder
 * (not core's `dist`, which a parallel `pnpm build` may be rewriting). The image is then built by
 * core's `buildLocalImage()`, which skips the build when the tag's content hash already matches.
 *
 * Use from a globalSetup:  `const { tag } = await ensureLocalImage();`
 * or from a shell:         `node test/image/build-local-image.ts` (prints the tag last).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
// A relative source import (not `@lambda-testkit/core`): this also runs under plain `node`, where the
// package would resolve to a `dist` that may not be built.
import {
  type BuildLocalImageOptions,
  buildLocalImage,
  type LocalImage,
} from '../../packages/core/src/backends/docker/local-image.ts';

const coreSrc = join(dirname(fileURLToPath(import.meta.url)), '../../packages/core/src');

async function sourcesOf(dir: string): Promise<string[]> {
  const files = await readdir(dir, { recursive: true });
  return files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .filter((f) => !f.split('/').includes('__fixtures__'))
    .map((f) => join(dir, f));
}

/** Compiles core's emulator and bootstrap (they import only `node:` builtins) into `outDir`. */
export async function compileEmulator(outDir: string): Promise<void> {
  const files = [
    ...(await sourcesOf(join(coreSrc, 'emulator'))),
    ...(await sourcesOf(join(coreSrc, 'bootstrap'))),
  ];
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    rootDir: coreSrc,
    outDir,
    declaration: false,
    sourceMap: false,
    skipLibCheck: true,
    types: ['node'],
  });
  const result = program.emit();
  const written = await readdir(outDir, { recursive: true }).catch(() => []);
  if (result.emitSkipped || !written.some((f) => f.endsWith('cli.js'))) {
    const messages = ts.formatDiagnostics(result.diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => coreSrc,
      getNewLine: () => '\n',
    });
    throw new Error(
      `Compiling the emulator for the local image failed (no emulator/cli.js emitted).\n${messages}`,
    );
  }
}

/**
 * `LAMBDA_TESTKIT_TEST_IMAGE_TAG`: the tag the suites build and use instead of the default, so that
 * checkouts sharing one engine do not rebuild one another's image under a running suite.
 */
export const TEST_IMAGE_TAG_VARIABLE = 'LAMBDA_TESTKIT_TEST_IMAGE_TAG';

/** Builds (or reuses, by content hash) the local image from the current emulator sources. */
export async function ensureLocalImage(
  options: Omit<BuildLocalImageOptions, 'emulatorBuild'> = {},
): Promise<LocalImage> {
  const scratch = await mkdtemp(join(tmpdir(), 'ltk-emulator-build-'));
  const tag = process.env[TEST_IMAGE_TAG_VARIABLE];
  try {
    await compileEmulator(scratch);
    return await buildLocalImage({
      entrypointScript: join(coreSrc, 'emulator/lambda-entrypoint.sh'),
      ...(tag ? { tag } : {}),
      ...options,
      emulatorBuild: scratch,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
