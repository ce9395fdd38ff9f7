// The import rules of docs/architecture.md ("What each folder may import"), checked against every
// import statement of core's sources (tests excluded: they may reach anywhere).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = dirname(fileURLToPath(import.meta.url));

/** Every source file under src, relative to it, tests and fixtures left out. */
function sources(dir = src): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '__fixtures__' ? [] : sources(path);
    return /\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [relative(src, path)] : [];
  });
}

/** The part of core a file belongs to: `entry` for the package entries, `root` for the vocabulary files, else its folder (backends/<name>). */
function areaOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1)
    return ['index.ts', 'internal.ts', 'host-entry.ts', 'config-entry.ts'].includes(file) ? 'entry' : 'root';
  return parts[0] === 'backends' ? `backends/${parts[1]}` : (parts[0] ?? '');
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1] ?? '');
  return specifiers;
}

/** What each area may import, by area or by file (relative to src). Unlisted areas: nothing but themselves. */
const ALLOWED: Record<string, readonly string[]> = {
  // TestkitConfig (config.ts) carries the SAM and CDK source options.
  root: ['root', 'sources/source-options.ts'],
  emulator: [],
  bootstrap: [],
  client: ['errors.ts'],
  config: ['root'],
  sources: ['root', 'config'],
  packaging: ['root'],
  pool: ['root', 'packaging', 'emulator/protocol.ts'],
  'backends/shared': ['root'],
  'backends/docker': ['root', 'backends/shared', 'packaging', 'emulator'],
  // The process backend runs the emulator in the pool's process (and starts spare runtimes with it).
  'backends/process': ['root', 'backends/shared', 'packaging', 'emulator'],
  'backends/kubernetes': ['root', 'backends/shared', 'packaging'],
  // Runs each function on one of two backends it is given: it knows the interface only.
  'backends/fallback': ['root'],
  server: ['root', 'client/protocol.ts', 'emulator'],
  host: [
    'root',
    'config',
    'sources',
    'packaging',
    'pool',
    'backends/docker',
    'backends/process',
    'backends/fallback',
    'backends/kubernetes',
    'server',
  ],
  cli: ['root', 'backends/docker', 'backends/process', 'backends/kubernetes', 'backends/shared'],
  testing: ['root', 'emulator/protocol.ts'],
};

/** Areas whose files may use only `node:` builtins among packages (they run alone in an image). */
const BUILTINS_ONLY = new Set(['emulator', 'bootstrap']);

describe('dependency rules (docs/architecture.md)', () => {
  const files = sources();

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files).toContain('host/pool-host.ts');
  });

  it('every import stays within what its folder may use', () => {
    const broken: string[] = [];
    for (const file of files) {
      const area = areaOf(file);
      if (area === 'entry') continue;
      for (const specifier of importsOf(file)) {
        if (!specifier.startsWith('.')) {
          if (BUILTINS_ONLY.has(area) && !specifier.startsWith('node:'))
            broken.push(`${file} → ${specifier}`);
          continue;
        }
        const target = relative(src, resolve(src, dirname(file), specifier));
        const targetArea = areaOf(target);
        if (targetArea === area) continue;
        const allowed = ALLOWED[area] ?? [];
        if (!allowed.includes(targetArea) && !allowed.includes(target)) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
