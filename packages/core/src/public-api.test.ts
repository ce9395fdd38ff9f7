// The public surface of @lambda-testkit/core is chosen name by name (index.ts) and documented
// (docs/architecture.md, "Public surface"): no `export *`, and no name exported without a line there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as core from './index.ts';
import * as internal from './internal.ts';

const indexText = readFileSync(new URL('./index.ts', import.meta.url), 'utf8');
const architecture = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');

/** `{ name, type Other }` lists of index.ts's export statements: [name, is a type]. */
function exportedNames(): Array<[string, boolean]> {
  const names: Array<[string, boolean]> = [];
  for (const m of indexText.matchAll(/^export (type )?\{([^}]*)\} from/gm)) {
    for (const raw of (m[2] ?? '').split(',')) {
      const item = raw.trim();
      if (!item) continue;
      const isType = Boolean(m[1]) || item.startsWith('type ');
      names.push([item.replace(/^type\s+/, ''), isType]);
    }
  }
  return names;
}

describe('@lambda-testkit/core public surface', () => {
  it('exports names one by one, never a whole module', () => {
    expect(indexText).not.toMatch(/^export \*/m);
    expect(indexText).not.toMatch(/^export type \*/m);
  });

  it('exports at run time exactly the values index.ts lists', () => {
    const values = exportedNames()
      .filter(([, isType]) => !isType)
      .map(([name]) => name);
    expect(Object.keys(core).sort()).toEqual([...values].sort());
  });

  it('documents every public name in docs/architecture.md', () => {
    const section = architecture.slice(architecture.indexOf('## Public surface'));
    expect(section.length, 'docs/architecture.md has a "## Public surface" section').toBeLessThan(
      architecture.length,
    );
    const undocumented = exportedNames()
      .map(([name]) => name)
      .filter((name) => !section.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });

  it('keeps internals out of the root entry; the internal entry has them and every public name', () => {
    for (const name of ['zipDirectory', 'classifyAnswer', 'InstanceClient', 'functionNameIndex', 'logTail']) {
      expect(Object.keys(core), name).not.toContain(name);
      expect(Object.keys(internal), name).toContain(name);
    }
    expect(Object.keys(internal)).toEqual(expect.arrayContaining(Object.keys(core)));
  });
});
