// `@lambda-testkit/vitest/plugin` loads while Vitest reads vitest.config, before any test and in every
// run: it must load no package and, of core, only the light `/config` entry (defineConfig); the host,
// its pool and their dependencies load with the global setup (docs/architecture.md#loading-on-first-use).
// A fresh Node imports the entry (from sources: tsc builds dist file for file, so the build imports the
// same modules; bench/startup.bench.mjs measures the build) and lists every file it loaded.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Imports the plugin entry in a fresh Node and returns the URLs of the files it loaded (not node: builtins). */
async function filesLoadedByPlugin(conditions: string[]): Promise<string[]> {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { if (url.startsWith('file:')) loaded.push(url); return next(url, context); } });
    const plugin = await import('@lambda-testkit/vitest/plugin');
    if (typeof plugin.lambdaTestkit !== 'function' || typeof plugin.defineConfig !== 'function') throw new Error('entry incomplete');
    process.stdout.write(JSON.stringify(loaded));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...conditions, '--input-type=module', '--eval', script],
    { cwd: packageDir, timeout: 30_000 },
  );
  return JSON.parse(stdout) as string[];
}

/** What the loaded files may be: the plugin's own modules and core's config entry with its vocabulary file. */
function unexpected(files: string[]): string[] {
  return files.filter(
    (url) =>
      url.includes('/node_modules/') ||
      !/\/packages\/(vitest\/(src|dist)\/(plugin|plugin-options)|core\/(src|dist)\/(config-entry|config))\.(ts|js)$/.test(
        url,
      ),
  );
}

describe('@lambda-testkit/vitest/plugin', () => {
  it("loads no package and only core's config entry", async () => {
    const files = await filesLoadedByPlugin(['--conditions=lambda-testkit-source']);
    expect(files.some((url) => url.endsWith('/core/src/config-entry.ts'))).toBe(true);
    expect(unexpected(files)).toEqual([]);
  });
});
