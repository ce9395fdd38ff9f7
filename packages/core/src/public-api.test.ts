// The public surface of @lambda-testkit/core is chosen name by name (index.ts; the errors module and
// the pool's option and report types are public as a whole) and documented (docs/architecture.md, "Public surface"): no other `export *`,
// and no name exported without a line there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.ts';
import * as core from './index.ts';
import * as internal from './internal.ts';

const indexText = readFileSync(new URL('./index.ts', import.meta.url), 'utf8');
/** Modules exported whole: every name they declare is public. */
const WHOLESALE = ['./errors.ts', './pool/pool-types.ts'];
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
  // The modules exported whole: their own `export` declarations.
  for (const module of WHOLESALE) {
    const text = readFileSync(new URL(module, import.meta.url), 'utf8');
    for (const m of text.matchAll(/^export (?:const|class|function|interface|type) (\w+)/gm)) {
      const isType = /^export (?:interface|type) /.test(m[0]);
      names.push([m[1] ?? '', isType]);
    }
  }
  return names;
}

describe('@lambda-testkit/core public surface', () => {
  it('exports names one by one, never a whole module but the errors and pool-types modules', () => {
    const wholesale = [...indexText.matchAll(/^export (?:type )?\* from '([^']+)'/gm)].map((m) => m[1]);
    expect(wholesale.sort()).toEqual([...WHOLESALE].sort());
    expect(Object.keys(errors).length).toBeGreaterThan(5);
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

  it('exports every name docs/architecture.md lists as public', () => {
    const section = architecture.slice(architecture.indexOf('## Public surface'));
    const listed = [...section.slice(0, section.indexOf('\n## ', 1)).matchAll(/`([A-Za-z_]\w*)`/g)].map(
      (m) => m[1],
    );
    const exported = new Set(exportedNames().map(([name]) => name));
    expect(listed.length).toBeGreaterThan(50);
    expect(listed.filter((name) => name && !exported.has(name))).toEqual([]);
  });

  it('keeps internals out of the root entry; the internal entry has them and every public name', () => {
    for (const name of ['zipDirectory', 'classifyAnswer', 'InstanceClient', 'functionNameIndex', 'logTail']) {
      expect(Object.keys(core), name).not.toContain(name);
      expect(Object.keys(internal), name).toContain(name);
    }
    expect(Object.keys(internal)).toEqual(expect.arrayContaining(Object.keys(core)));
  });
});
