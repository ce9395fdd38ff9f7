/**
 * Bundling a TypeScript/JavaScript `entry` with esbuild, the way CDK's `NodejsFunction` and SAM's
 * esbuild builder do, into a code directory the pool resolves like any other (it rejects bare
 * entries). Bundles are cached by input hash: on every load the previous build's inputs (from
 * esbuild's metafile) are hashed again, so an edit to any imported file misses the cache, gives
 * new bundle bytes and therefore a new deploy id — a fresh instance on the next invoke in watch mode.
 * Each entry keeps its few most recently used bundles (an edit and its revert both hit the cache);
 * older ones are deleted, so a long watch session does not fill the disk.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildFailure, Message, Metafile } from 'esbuild';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { BundleOptions, FunctionSpec } from '../function-spec.ts';
import { loadOnFirstUse } from '../load-on-first-use.ts';
import { runtimeInfo } from '../runtimes.ts';

/**
 * esbuild, loaded on first use: most runs declare no `entry`, and loading esbuild (its JS API and
 * the native binary it locates) would otherwise cost every run.
 */
function loadEsbuild(): Promise<typeof import('esbuild')> {
  return Promise.resolve(loadOnFirstUse<typeof import('esbuild')>('esbuild'));
}

/** Cache folder for bundles and inline code, inside the project's `node_modules/.cache`. */
export function cacheDirectory(root: string): string {
  return join(root, 'node_modules', '.cache', 'lambda-testkit');
}

// CDK NodejsFunction's documented ESM banner: bundled CommonJS dependencies call `require`,
// which an ES module does not have (aws-cdk-lib aws-lambda-nodejs README, "ESM").
const ESM_REQUIRE_BANNER =
  "import { createRequire as __ltkCreateRequire } from 'node:module'; const require = __ltkCreateRequire(import.meta.url);";

/**
 * Bundles kept per entry and options, most recently used first. Three covers an edit, its revert
 * and one more; a bundle is zipped into memory when the pool resolves it, so deleting an older
 * one never affects a running instance.
 */
export const BUNDLES_KEPT_PER_ENTRY = 3;

/** A `.tmp-*` build folder this old was left by a process that died mid-build. */
const STALE_BUILD_MS = 60 * 60 * 1000;

const sourcesByBundle = new Map<string, readonly string[]>();

/**
 * The files esbuild read for the bundle in `codeDir` (absolute paths: the entry, what it imports,
 * packages under `node_modules` included), or undefined when `codeDir` is not a bundle this
 * process made. For watchers: an edit to any of them changes the bundle on the next load.
 */
export function bundledSources(codeDir: string): readonly string[] | undefined {
  return sourcesByBundle.get(codeDir);
}

/** What the cache remembers about one entry built with one set of options. */
interface BundleManifest {
  entry: string;
  /** Files the last stable build read; null when no build was stable yet. */
  inputs: string[] | null;
  /** Bundle folder names, most recently used first, with the entry's export names (null: unknown). */
  bundles: { id: string; exports: string[] | null }[];
}

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
  const esbuild = await loadEsbuild();
  const key = JSON.stringify({ v: 1, esbuild: esbuild.version, ...settings });
  const cache = cacheDirectory(root);
  const bundlesDir = join(cache, 'bundles');
  const manifestPath = join(cache, 'bundle-inputs', `${sha256(key)}.json`);
  const manifest = await readManifest(manifestPath, entry);

  let outdir: string | undefined;
  let exports: string[] | null = null;
  let sources: string[] = [];
  const inputHash = manifest.inputs && (await hashInputs(key, manifest.inputs));
  if (manifest.inputs && inputHash && (await exists(join(bundlesDir, inputHash, outfileName)))) {
    outdir = join(bundlesDir, inputHash);
    sources = manifest.inputs;
    exports = manifest.bundles.find((b) => b.id === inputHash)?.exports ?? null;
  }

  if (!outdir) {
    // Built beside the final folder (same depth), then renamed: relative paths esbuild writes are
    // the same, and a half-written bundle is never seen by a concurrent load.
    await removeStaleBuilds(bundlesDir);
    const temporary = join(bundlesDir, `.tmp-${randomBytes(6).toString('hex')}`);
    await mkdir(temporary, { recursive: true });
    let inputs: string[];
    const started = Date.now();
    try {
      const result = await esbuild.build({
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
      exports =
        format === 'esm'
          ? entryExports(result.metafile, await readFile(join(temporary, outfileName), 'utf8'))
          : await analyseExports(entry, root, settings);
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
    const builtHash =
      (stable && (await hashInputs(key, inputs))) || `unstable-${randomBytes(8).toString('hex')}`;
    if (sourcemap) await absolutizeSourceMap(join(temporary, `${outfileName}.map`), temporary);
    outdir = join(bundlesDir, builtHash);
    if (await exists(outdir)) {
      await rm(temporary, { recursive: true, force: true });
    } else {
      await rename(temporary, outdir).catch(async (error: NodeJS.ErrnoException) => {
        // Another load renamed the same bundle first: theirs is identical.
        await rm(temporary, { recursive: true, force: true });
        if (!(await exists(outdir as string))) throw error;
      });
    }
    if (stable) manifest.inputs = inputs;
    sources = inputs;
  }
  sourcesByBundle.set(outdir, sources);
  await recordUse(manifest, manifestPath, bundlesDir, { id: basename(outdir), exports });
  checkExport(spec, handlerExport, exports, entry);

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

async function readManifest(path: string, entry: string): Promise<BundleManifest> {
  try {
    const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<BundleManifest>;
    return {
      entry,
      inputs: Array.isArray(raw.inputs) ? raw.inputs : null,
      bundles: Array.isArray(raw.bundles) ? raw.bundles.filter((b) => typeof b?.id === 'string') : [],
    };
  } catch {
    // No previous build of this entry with these options (or a manifest from an older version).
    return { entry, inputs: null, bundles: [] };
  }
}

/**
 * Moves the bundle in use to the front of the entry's list, deletes the bundles beyond
 * `BUNDLES_KEPT_PER_ENTRY` and saves the list (written aside and renamed: a reader never sees
 * half a file).
 */
async function recordUse(
  manifest: BundleManifest,
  path: string,
  bundlesDir: string,
  used: BundleManifest['bundles'][number],
): Promise<void> {
  const previous = JSON.stringify(manifest);
  const others = manifest.bundles.filter((b) => b.id !== used.id);
  manifest.bundles = [used, ...others].slice(0, BUNDLES_KEPT_PER_ENTRY);
  for (const old of others.slice(BUNDLES_KEPT_PER_ENTRY - 1)) {
    // Names come from our own manifest; never follow one out of the bundles folder.
    if (/^[\w-]+$/.test(old.id)) await rm(join(bundlesDir, old.id), { recursive: true, force: true });
  }
  if (JSON.stringify(manifest) === previous) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, JSON.stringify(manifest));
  await rename(temporary, path);
}

/** Removes `.tmp-*` build folders a crashed process left behind. */
async function removeStaleBuilds(bundlesDir: string): Promise<void> {
  const names = await readdir(bundlesDir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith('.tmp-'))) {
    const folder = join(bundlesDir, name);
    const modified = (await stat(folder).catch(() => undefined))?.mtimeMs;
    if (modified !== undefined && Date.now() - modified > STALE_BUILD_MS) {
      await rm(folder, { recursive: true, force: true });
    }
  }
}

/**
 * The entry's export names from an ESM build's metafile, or null when they cannot be known: a
 * CommonJS entry (its exports are assigned at run time) or an `export * from` a package left
 * external (esbuild does not list what that re-exports).
 */
function entryExports(metafile: Metafile | undefined, output: string): string[] | null {
  const out = Object.values(metafile?.outputs ?? {}).find((o) => o.entryPoint !== undefined);
  if (!out?.entryPoint || metafile?.inputs[out.entryPoint]?.format !== 'esm') return null;
  if (/export\s*\*\s*from/.test(output)) return null;
  return out.exports;
}

/** For CommonJS output: the entry's exports from an in-memory ESM build (esbuild lists them for ESM only). */
async function analyseExports(
  entry: string,
  root: string,
  settings: {
    target: string;
    define: Record<string, string>;
    loader: BundleOptions['loader'];
    external: string[];
  },
): Promise<string[] | null> {
  try {
    const { build } = await loadEsbuild();
    const result = await build({
      entryPoints: [entry],
      outfile: 'analysis.mjs',
      write: false,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: settings.target,
      define: settings.define,
      loader: settings.loader ?? {},
      external: settings.external,
      absWorkingDir: root,
      metafile: true,
      logLevel: 'silent',
    });
    return entryExports(result.metafile, result.outputFiles[0]?.text ?? '');
  } catch {
    return null; // the real build succeeded; not knowing the exports only skips the check
  }
}

/**
 * Lambda would report `Runtime.HandlerNotFound` for `index.<export>` at the first invoke, naming
 * the bundle rather than the user's file; failing at load names the entry and what it exports.
 */
function checkExport(spec: FunctionSpec, name: string, exports: string[] | null, entry: string): void {
  if (exports === null || exports.includes(name)) return;
  throw new ConfigError(
    ErrorCodes.BAD_HANDLER,
    `Function "${spec.name}": handler "${spec.handler}" names the export "${name}", which ${entry} does not export (its exports: ${exports.join(', ') || 'none'}). Fix the part after the last dot of the handler, or export "${name}" from the entry.`,
    { details: { function: spec.name, handler: spec.handler, entry, exports } },
  );
}
