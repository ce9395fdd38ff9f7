/**
 * Bundling a TypeScript/JavaScript `entry` with esbuild, the way CDK's `NodejsFunction` and SAM's
 * esbuild builder do, into a code directory the pool resolves like any other (it rejects bare
 * entries). Bundles are cached by input hash: on every load the previous build's inputs (from
 * esbuild's metafile) are hashed again, so an edit to any imported file misses the cache, gives
 * new bundle bytes and therefore a new deploy id — a fresh instance on the next invoke in watch mode.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildFailure, build, version as esbuildVersion, type Message } from 'esbuild';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { BundleOptions, FunctionSpec } from '../function-spec.ts';
import { runtimeInfo } from '../runtimes.ts';

/** Cache folder for bundles and inline code, inside the project's `node_modules/.cache`. */
export function cacheDirectory(root: string): string {
  return join(root, 'node_modules', '.cache', 'lambda-testkit');
}

// CDK NodejsFunction's documented ESM banner: bundled CommonJS dependencies call `require`,
// which an ES module does not have (aws-cdk-lib aws-lambda-nodejs README, "ESM").
const ESM_REQUIRE_BANNER =
  "import { createRequire as __ltkCreateRequire } from 'node:module'; const require = __ltkCreateRequire(import.meta.url);";

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function exportName(spec: FunctionSpec): string {
  const dot = spec.handler.lastIndexOf('.');
  const name = dot < 0 ? '' : spec.handler.slice(dot + 1);
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new ConfigError(
      ErrorCodes.BAD_HANDLER,
      `Function "${spec.name}": handler "${spec.handler}" does not name an export. Expected "<file>.<export>", for example "index.handler" (with an entry, the file part is replaced by the bundle's name).`,
      { details: { function: spec.name, handler: spec.handler } },
    );
  }
  return name;
}

function formatMessages(messages: Message[]): string {
  return messages
    .map((m) =>
      m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text,
    )
    .join('\n  ');
}

/** Hash of the build key and the current contents of every input; undefined if one is gone. */
async function hashInputs(key: string, inputs: string[]): Promise<string | undefined> {
  const hash = createHash('sha256').update(key);
  for (const input of [...inputs].sort()) {
    try {
      hash.update(`\0${input}\0${sha256(await readFile(input))}`);
    } catch {
      return undefined;
    }
  }
  return hash.digest('base64url').slice(0, 32);
}

/** The paths that are files (esbuild's metafile may list virtual modules). */
async function existingFiles(paths: string[]): Promise<string[]> {
  const checks = await Promise.all(
    paths.map(async (p) => ((await stat(p).catch(() => undefined))?.isFile() ? p : '')),
  );
  return checks.filter(Boolean);
}

async function unchangedSince(paths: string[], since: number): Promise<boolean> {
  const times = await Promise.all(
    paths.map(async (p) => (await stat(p).catch(() => undefined))?.mtimeMs ?? Infinity),
  );
  return times.every((t) => t < since);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bundles `spec.entry` (cached) and returns the spec with `code` set to the bundle's directory,
 * `handler` pointing at it (`index.<export>`), `entry` removed and, with source maps,
 * `--enable-source-maps` appended to `NODE_OPTIONS`.
 */
export async function bundleEntry(spec: FunctionSpec, root: string): Promise<FunctionSpec> {
  if (!spec.entry) return spec;
  if (spec.code) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Function "${spec.name}" declares both "code" and "entry". Declare exactly one: "code" for built code, "entry" for a source file to bundle.`,
      { details: { function: spec.name } },
    );
  }
  const runtime = runtimeInfo(spec.runtime);
  if (runtime.family !== 'nodejs' || runtime.major === undefined) {
    throw new ConfigError(
      ErrorCodes.CONFIG_INVALID,
      `Function "${spec.name}": "entry" is bundled with esbuild for Node runtimes only, but the runtime is ${spec.runtime}. Build the code yourself and declare it with "code".`,
      { details: { function: spec.name, runtime: spec.runtime } },
    );
  }
  const entry = resolve(root, spec.entry);
  if (!(await exists(entry))) {
    throw new ConfigError(
      ErrorCodes.CODE_NOT_FOUND,
      `Function "${spec.name}": the entry ${entry} does not exist. Fix "entry" (relative paths start at ${root}).`,
      { details: { function: spec.name, path: entry } },
    );
  }
  const handlerExport = exportName(spec);
  const options: BundleOptions = spec.bundle ?? {};
  const format = options.format ?? 'cjs';
  const sourcemap = options.sourcemap ?? true;
  const outfileName = format === 'esm' ? 'index.mjs' : 'index.js';
  const settings = {
    entry,
    format,
    sourcemap,
    minify: options.minify ?? false,
    target: options.target ?? `node${runtime.major}`,
    define: options.define ?? {},
    loader: options.loader ?? {},
    external: [...(options.bundleAwsSdk ? [] : ['@aws-sdk/*']), ...(options.external ?? [])],
  };
  const key = JSON.stringify({ v: 1, esbuild: esbuildVersion, ...settings });
  const cache = cacheDirectory(root);
  const manifest = join(cache, 'bundle-inputs', `${sha256(key)}.json`);

  let outdir: string | undefined;
  try {
    const previous = JSON.parse(await readFile(manifest, 'utf8')) as { inputs: string[] };
    const inputHash = await hashInputs(key, previous.inputs);
    const candidate = inputHash && join(cache, 'bundles', inputHash);
    if (candidate && (await exists(join(candidate, outfileName)))) outdir = candidate;
  } catch {
    // No previous build of this entry with these options: build below.
  }

  if (!outdir) {
    // Built beside the final folder (same depth), then renamed: relative paths esbuild writes are
    // the same, and a half-written bundle is never seen by a concurrent load.
    const temporary = join(cache, 'bundles', `.tmp-${randomBytes(6).toString('hex')}`);
    await mkdir(temporary, { recursive: true });
    let inputs: string[];
    const started = Date.now();
    try {
      const result = await build({
        entryPoints: [entry],
        outfile: join(temporary, outfileName),
        bundle: true,
        platform: 'node',
        format: settings.format,
        target: settings.target,
        minify: settings.minify,
        sourcemap: settings.sourcemap,
        define: settings.define,
        loader: settings.loader,
        external: settings.external,
        // As NodejsFunction: ESM output prefers packages' ESM builds.
        mainFields: format === 'esm' ? ['module', 'main'] : ['main', 'module'],
        banner: format === 'esm' ? { js: ESM_REQUIRE_BANNER } : {},
        absWorkingDir: root,
        metafile: true,
        logLevel: 'silent',
      });
      inputs = await existingFiles(Object.keys(result.metafile?.inputs ?? {}).map((p) => resolve(root, p)));
    } catch (error) {
      await rm(temporary, { recursive: true, force: true });
      const failure = error as Partial<BuildFailure>;
      const detail = failure.errors?.length ? formatMessages(failure.errors) : (error as Error).message;
      throw new ConfigError(
        ErrorCodes.BUNDLE_FAILED,
        `Function "${spec.name}": esbuild could not bundle ${entry}:\n  ${detail}\nFix the source, or adjust "bundle" (external, loader, define).`,
        { cause: error, details: { function: spec.name, entry } },
      );
    }
    // A file saved while esbuild ran may be in the bundle in its old form but hashed in its new
    // one: such a build is used once and not cached, so the next load builds again.
    const stable = await unchangedSince(inputs, started);
    const inputHash =
      (stable && (await hashInputs(key, inputs))) || `unstable-${randomBytes(8).toString('hex')}`;
    if (sourcemap) await absolutizeSourceMap(join(temporary, `${outfileName}.map`), temporary);
    outdir = join(cache, 'bundles', inputHash);
    if (await exists(outdir)) {
      await rm(temporary, { recursive: true, force: true });
    } else {
      await rename(temporary, outdir).catch(async (error: NodeJS.ErrnoException) => {
        // Another load renamed the same bundle first: theirs is identical.
        await rm(temporary, { recursive: true, force: true });
        if (!(await exists(outdir as string))) throw error;
      });
    }
    if (stable) {
      await mkdir(join(cache, 'bundle-inputs'), { recursive: true });
      await writeFile(manifest, JSON.stringify({ entry, inputs }));
    }
  }

  const { entry: _entry, bundle: _bundle, ...rest } = spec;
  const environment = { ...spec.environment };
  if (sourcemap && !(environment.NODE_OPTIONS ?? '').includes('--enable-source-maps')) {
    environment.NODE_OPTIONS = [environment.NODE_OPTIONS, '--enable-source-maps'].filter(Boolean).join(' ');
  }
  return { ...rest, code: outdir, handler: `index.${handlerExport}`, environment };
}

/**
 * esbuild writes `sources` relative to the bundle; the bundle runs elsewhere (`/var/task` in a
 * container, a temporary folder for processes), where those paths resolve to nothing. Absolute
 * `file:` URLs make `--enable-source-maps` stack traces name the developer's own `.ts` files.
 */
async function absolutizeSourceMap(mapFile: string, bundleDir: string): Promise<void> {
  const map = JSON.parse(await readFile(mapFile, 'utf8')) as { sources: string[] };
  map.sources = map.sources.map((s) => pathToFileURL(resolve(bundleDir, s)).href);
  await writeFile(mapFile, JSON.stringify(map));
}
