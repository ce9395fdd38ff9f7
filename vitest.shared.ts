/**
 * Shared Vitest settings for this repository's own suites.
 *
 * Source-first resolution: `@lambda-testkit/*` imports resolve to the packages' TypeScript sources
 * (the `lambda-testkit-source` condition of each exports map), so unit and cross-package suites need
 * no build. Examples are different: they resolve the built packages, as a user's project would.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shape of one entry of Vite's `resolve.alias` array. */
export interface Alias {
  find: RegExp;
  replacement: string;
}

export const repoRoot = dirname(fileURLToPath(import.meta.url));

function sourceAliasesFor(pkgDir: string): Alias[] {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | Record<string, string>>;
  };
  const aliases: Alias[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    const source = target['lambda-testkit-source'];
    if (!source) continue;
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    const escaped = specifier.replace(/[/.]/g, (c) => `\\${c}`);
    aliases.push({ find: new RegExp(`^${escaped}$`), replacement: join(pkgDir, source) });
  }
  return aliases;
}

export const sourceAliases: Alias[] = ['core', 'vitest', 'jest'].flatMap((p) =>
  sourceAliasesFor(join(repoRoot, 'packages', p)),
);
