// What a user installs from npm: core, vitest and jest as `pnpm pack` makes them (the `files` list,
// exports maps into dist, bins, `workspace:*` rewritten to versions), installed into a fresh project
// outside this workspace and used as the README shows: the Vitest plugin and `it` fixture, the Jest
// preset and `lambda` helper, the `lambda-testkit` CLI, the declaration files. The other suites
// resolve the packages through the workspace (sources or dist folders), which a broken `files` list
// or a missing dependency would not break.
//
// The install is offline, from the pnpm store this machine filled for the workspace: the project's
// lockfile is seeded with the workspace's resolutions, so third-party packages get the versions the
// workspace uses. Where the store's metadata is missing (a fresh CI machine whose store was filled
// from the lockfile alone), it retries with --prefer-offline, which fetches only what is missing.
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { type CollectedRun, runCollecting } from '../support/run-collecting.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/consumer');
const packageDirs = ['core', 'vitest', 'jest'] as const;

interface PackageJson {
  name: string;
  version: string;
  bin?: Record<string, string>;
  exports: Record<string, unknown>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface JsonReport {
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** The environment of every child: no colours, the process backend, no override from outside. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const key of Object.keys(env)) if (key.startsWith('LAMBDA_TESTKIT_')) delete env[key];
  env.LAMBDA_TESTKIT_BACKEND = 'process';
  return env;
}

/** Runs a command to its end (killed after 5 minutes) and returns its exit code and output. */
function run(cmd: string, args: string[], cwd: string): Promise<CollectedRun> {
  return runCollecting(cmd, args, { cwd, env: childEnv(), timeout: 300_000, killSignal: 'SIGKILL' });
}

/** Like `run`, but a non-zero exit throws with the command's whole output. */
async function runOk(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) {
    throw new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} exited with ${r.code}:\n${r.output}`);
  }
  return r.output;
}

/** Every file under `dir`, relative to it, with `/` separators. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

/** Every path an exports map points at (all conditions, nested ones included). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets);
  return [];
}

interface LockedDependency {
  specifier: string;
  version: string;
}

interface Lockfile {
  lockfileVersion: string;
  settings: Record<string, unknown>;
  importers: Record<string, Record<string, Record<string, LockedDependency>>>;
  packages: Record<string, unknown>;
  snapshots?: Record<string, unknown>;
}

/** The workspace lockfile's last YAML document (pnpm writes its own package manager's entries in a first one). */
function workspaceLockfile(): Lockfile {
  const docs = parseAllDocuments(readFileSync(join(repoRoot, 'pnpm-lock.yaml'), 'utf8'));
  const lock = docs.at(-1)?.toJS() as Partial<Lockfile> | undefined;
  if (!lock?.settings || !lock.importers || !lock.packages) {
    throw new Error('pnpm-lock.yaml: no settings, importers or packages found (has its format changed?)');
  }
  return lock as Lockfile;
}

/** `{ version, key }` of `dep` as the workspace lockfile resolves it for the importer `importer`. */
function lockedVersion(lock: Lockfile, importer: string, dep: string): { version: string; key: string } {
  const { dependencies, devDependencies } = lock.importers[importer] ?? {};
  const key = (devDependencies?.[dep] ?? dependencies?.[dep])?.version;
  if (!key) throw new Error(`pnpm-lock.yaml: no ${dep} in the importer ${importer}`);
  return { version: key.replace(/\(.*$/, ''), key };
}

/** The repository root's `allowBuilds` decisions (pnpm 12 refuses undecided build scripts). */
function allowBuilds(): Record<string, boolean> {
  const workspace = parse(readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8')) as {
    allowBuilds?: Record<string, boolean>;
  };
  if (!workspace.allowBuilds) throw new Error('pnpm-workspace.yaml: no allowBuilds found');
  return workspace.allowBuilds;
}

describe('the packed packages, installed from their tarballs into a project outside the workspace', () => {
  // Made in beforeAll, so a run that filters this file's tests out leaves no folder behind.
  let packDir = '';
  let project = '';
  let reports = '';
  const source = new Map<string, PackageJson>();
  /** Installed package folder (inside the project's node_modules/.pnpm) by package name. */
  const installed = new Map<string, string>();
  let installMode = '';

  beforeAll(async () => {
    packDir = mkdtempSync(join(tmpdir(), 'ltk-packed-tgz-'));
    project = mkdtempSync(join(tmpdir(), 'ltk-packed-project-'));
    reports = mkdtempSync(join(tmpdir(), 'ltk-packed-reports-'));
    for (const dir of packageDirs) {
      const pkgDir = join(repoRoot, 'packages', dir);
      if (!existsSync(join(pkgDir, 'dist'))) {
        throw new Error(
          `packages/${dir}/dist is missing: this suite packs the built packages. Run \`pnpm build\`.`,
        );
      }
      source.set(dir, readJson<PackageJson>(join(pkgDir, 'package.json')));
      await runOk('pnpm', ['pack', '--pack-destination', packDir], pkgDir);
    }
    const tarball = (dir: string) => {
      const pkg = source.get(dir)!;
      const file = join(packDir, `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`);
      if (!existsSync(file))
        throw new Error(`pnpm pack wrote no ${file}; ${packDir} holds ${readdirSync(packDir)}`);
      return `file:${file}`;
    };

    const lock = workspaceLockfile();
    // Third-party versions as the workspace resolves them (the runners from the suites' package).
    const tools = {
      vitest: lockedVersion(lock, 'test', 'vitest'),
      jest: lockedVersion(lock, 'test', 'jest'),
      typescript: lockedVersion(lock, '.', 'typescript'),
      '@types/node': lockedVersion(lock, '.', '@types/node'),
    };

    cpSync(fixture, project, { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify(
        {
          name: 'packed-consumer',
          version: '0.0.0',
          private: true,
          devDependencies: {
            '@lambda-testkit/core': tarball('core'),
            '@lambda-testkit/jest': tarball('jest'),
            '@lambda-testkit/vitest': tarball('vitest'),
            ...Object.fromEntries(Object.entries(tools).map(([name, t]) => [name, t.version])),
          },
        },
        null,
        2,
      )}\n`,
    );
    // A workspace root of its own, so pnpm does not attach it to any workspace above it.
    writeFileSync(
      join(project, 'pnpm-workspace.yaml'),
      stringify({
        allowBuilds: allowBuilds(),
        // The published vitest and jest packages depend on core by version (0.1.0 is not on npm
        // yet, or is another build): point that dependency at this build's tarball.
        overrides: { '@lambda-testkit/core': tarball('core') },
        // The seeded lockfile holds only versions the workspace's own install already accepted; its
        // release-age check would need registry metadata that an offline install lacks.
        minimumReleaseAge: 0,
        // No hidden hoisting (node_modules/.pnpm/node_modules): an import of a dependency a package
        // does not declare fails here as it would for npm users whose tree lacks it.
        hoist: false,
      }),
    );
    const seed: Lockfile = {
      lockfileVersion: lock.lockfileVersion,
      settings: lock.settings,
      importers: {
        '.': {
          devDependencies: Object.fromEntries(
            Object.entries(tools)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, t]) => [name, { specifier: t.version, version: t.key }]),
          ),
        },
      },
      packages: lock.packages,
      ...(lock.snapshots ? { snapshots: lock.snapshots } : {}),
    };
    writeFileSync(join(project, 'pnpm-lock.yaml'), stringify(seed));

    // CI=true would make pnpm default to --frozen-lockfile: this lockfile is only a seed.
    const offline = await run('pnpm', ['install', '--offline', '--no-frozen-lockfile'], project);
    if (offline.code === 0) {
      installMode = 'offline';
    } else if (/NO_OFFLINE/.test(offline.output)) {
      console.log(
        `packed: offline install impossible here, retrying with --prefer-offline:\n${offline.output}`,
      );
      await runOk('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'], project);
      installMode = 'prefer-offline';
    } else {
      throw new Error(`pnpm install --offline in ${project} exited with ${offline.code}:\n${offline.output}`);
    }
    for (const dir of packageDirs) {
      const name = source.get(dir)!.name;
      installed.set(name, realpathSync(join(project, 'node_modules', name)));
    }
  });

  afterAll(() => {
    for (const dir of [packDir, project, reports]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs from the tarballs, with no workspace link', () => {
    expect(['offline', 'prefer-offline']).toContain(installMode);
    for (const [name, dir] of installed) {
      // A link into the repository would mean the workspace answered, not the tarball.
      expect(dir.startsWith(repoRoot), `${name} resolves to ${dir}`).toBe(false);
      expect(dir.startsWith(realpathSync(project)), `${name} resolves to ${dir}`).toBe(true);
    }
  });

  it('packs the build and the sources its source maps name, but no tests or test fixtures', () => {
    for (const [name, dir] of installed) {
      const files = listFiles(dir);
      expect(files, name).toContain('package.json');
      expect(
        files.filter((f) => /\.test\.ts$|(^|\/)(__fixtures__|fixtures)\//.test(f)),
        `${name}: test files in the tarball`,
      ).toEqual([]);
      expect(files.filter((f) => /^dist\/.*\.js$/.test(f)).length, `${name}: dist/*.js`).toBeGreaterThan(0);
      expect(files.filter((f) => /^dist\/.*\.d\.ts$/.test(f)).length, `${name}: dist/*.d.ts`).toBeGreaterThan(
        0,
      );
    }
  });

  it('rewrites workspace:* dependencies to the versions packed alongside', () => {
    const core = source.get('core')!;
    for (const [name, dir] of installed) {
      const pkg = readJson<PackageJson>(join(dir, 'package.json'));
      for (const [dep, range] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies })) {
        expect(range, `${name} → ${dep}`).not.toMatch(/^(workspace|link|file):/);
      }
      if (name !== core.name) expect(pkg.dependencies?.[core.name], name).toBe(core.version);
    }
  });

  it('has every file its exports map and bins point at, and every export resolves and loads', async () => {
    const specifiers: string[] = [];
    for (const [name, dir] of installed) {
      const pkg = readJson<PackageJson>(join(dir, 'package.json'));
      const targets = [...exportTargets(pkg.exports), ...Object.values(pkg.bin ?? {})];
      expect(targets.length, name).toBeGreaterThan(0);
      for (const target of targets) {
        expect(existsSync(join(dir, target)), `${name}: ${target} is not in the tarball`).toBe(true);
      }
      for (const [subpath, target] of Object.entries(pkg.exports)) {
        if (subpath === './package.json') continue;
        // The runtime entry of every subpath is built output (or the CommonJS preset file).
        const runtime = exportTargets(target).filter((t) => !t.endsWith('.d.ts') && !t.startsWith('./src/'));
        expect(runtime.length, `${name} ${subpath}`).toBeGreaterThan(0);
        for (const t of runtime) expect(t, `${name} ${subpath}`).toMatch(/^\.\/(dist\/|jest-preset\.cjs$)/);
        // A typed subpath's declarations are packed too.
        if (typeof target === 'object' && target && 'types' in target) {
          expect(String(target.types), `${name} ${subpath}`).toMatch(/^\.\/dist\/.*\.d\.ts$/);
        }
        specifiers.push(subpath === '.' ? name : `${name}/${subpath.slice(2)}`);
      }
    }
    // Resolved and loaded from the project, where pnpm's strict layout makes an import of an
    // undeclared dependency fail. `@lambda-testkit/vitest` itself loads only inside a Vitest run (the
    // Vitest test below loads it); the README's CommonJS entries are required as well.
    const script = [
      `const specifiers = ${JSON.stringify(specifiers)};`,
      `const require = (await import('node:module')).createRequire(process.cwd() + '/');`,
      `for (const s of specifiers) {`,
      `  import.meta.resolve(s);`,
      `  if (s !== '@lambda-testkit/vitest') await import(s);`,
      `}`,
      `require('@lambda-testkit/jest');`,
      `require('@lambda-testkit/jest/jest-preset');`,
      `console.log('loaded', specifiers.length);`,
    ].join('\n');
    const out = await runOk(process.execPath, ['--input-type=module', '-e', script], project);
    expect(out).toContain(`loaded ${specifiers.length}`);
  });

  it('ships the public surface of core as built from source: the root entry, and internals only under /internal', async () => {
    const script = [
      "const root = Object.keys(await import('@lambda-testkit/core'));",
      "const internal = Object.keys(await import('@lambda-testkit/core/internal'));",
      'console.log(JSON.stringify({ root, internal }));',
    ].join('\n');
    const out = await runOk(process.execPath, ['--input-type=module', '-e', script], project);
    const packed = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      root: string[];
      internal: string[];
    };
    const fromSource = Object.keys(await import('../../packages/core/src/index.ts'));
    expect(packed.root.sort()).toEqual(fromSource.sort());
    expect(packed.root).not.toContain('zipDirectory');
    expect(packed.internal).toEqual(expect.arrayContaining([...packed.root, 'zipDirectory']));
  });

  it('links the core CLI: `pnpm exec lambda-testkit --help`', async () => {
    const out = await runOk('pnpm', ['exec', 'lambda-testkit', '--help'], project);
    expect(out).toMatch(/Usage: lambda-testkit/);
    expect(out).toMatch(/build-image/);
    for (const bin of Object.keys(source.get('core')!.bin ?? {})) {
      expect(existsSync(join(project, 'node_modules/.bin', bin)), bin).toBe(true);
    }
  });

  it('runs the Vitest plugin and `it` fixture: `vitest run`', async () => {
    const file = join(reports, 'vitest.json');
    const r = await run(
      'pnpm',
      ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`],
      project,
    );
    expect(existsSync(file), `Vitest wrote no report (exit ${r.code}):\n${r.output}`).toBe(true);
    const report = readJson<JsonReport>(file);
    expect(report.numTotalTests, r.output).toBe(2);
    expect(report.numPassedTests, r.output).toBe(2);
    expect(report.success, r.output).toBe(true);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/backend process, functions: greet/);
  });

  it('runs the Jest preset and `lambda` helper: `jest`', async () => {
    const file = join(reports, 'jest.json');
    const r = await run('pnpm', ['exec', 'jest', '--ci', '--json', `--outputFile=${file}`], project);
    expect(existsSync(file), `Jest wrote no report (exit ${r.code}):\n${r.output}`).toBe(true);
    const report = readJson<JsonReport>(file);
    expect(report.numTotalTests, r.output).toBe(1);
    expect(report.numPassedTests, r.output).toBe(1);
    expect(report.success, r.output).toBe(true);
    expect(r.code, r.output).toBe(0);
    // The preset's summary reporter.
    expect(r.output).toMatch(/^greet\s+1\s+1\s+0\s/m);
  });

  it('type-checks a TypeScript project against the packed declarations: `tsc`', async () => {
    const r = await run('pnpm', ['exec', 'tsc', '-p', 'tsconfig.json'], project);
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
  });

  it('leaves nothing in the repository', () => {
    for (const dir of packageDirs) {
      const pkgDir = join(repoRoot, 'packages', dir);
      expect(
        readdirSync(pkgDir).filter((f) => f.endsWith('.tgz')),
        dir,
      ).toEqual([]);
    }
  });
});
