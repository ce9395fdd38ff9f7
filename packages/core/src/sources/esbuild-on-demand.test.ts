// esbuild loads only when a function declares an `entry`: importing core (every run's globalSetup
// does) must not load it. Checked in a fresh Node process whose resolve hook records every specifier.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const coreEntry = fileURLToPath(new URL('../index.ts', import.meta.url));
const internalEntry = fileURLToPath(new URL('../internal.ts', import.meta.url));

function specifiersLoadedBy(script: string): string[] {
  const program = [
    "import { registerHooks } from 'node:module';",
    'const seen = new Set();',
    'registerHooks({ resolve(specifier, context, next) { seen.add(specifier); return next(specifier, context); } });',
    script,
    'console.log(JSON.stringify([...seen]));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as string[];
}

describe('esbuild on demand', () => {
  it('is not loaded by importing @lambda-testkit/core (or its internal entry)', () => {
    const loaded = specifiersLoadedBy(
      `await import(${JSON.stringify(coreEntry)}); await import(${JSON.stringify(internalEntry)});`,
    );
    expect(loaded.length).toBeGreaterThan(10);
    expect(loaded).not.toContain('esbuild');
  });

  it('is loaded once bundleEntry has an entry to bundle', () => {
    const loaded = specifiersLoadedBy(
      [
        `const { bundleEntry } = await import(${JSON.stringify(internalEntry)});`,
        "const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');",
        "const { join } = await import('node:path');",
        "const { tmpdir } = await import('node:os');",
        "const root = mkdtempSync(join(tmpdir(), 'ltk-esbuild-'));",
        "writeFileSync(join(root, 'fn.ts'), 'export const handler = async () => 1;\\n');",
        "try { await bundleEntry({ name: 'fn', runtime: 'nodejs22.x', handler: 'fn.handler', entry: 'fn.ts' }, root); }",
        'finally { rmSync(root, { recursive: true, force: true }); }',
      ].join('\n'),
    );
    expect(loaded).toContain('esbuild');
  });
});
