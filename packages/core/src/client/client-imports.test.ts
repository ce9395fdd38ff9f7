// The worker-side client is loaded in every test worker and bundled to CommonJS for Jest
// (docs/architecture.md#what-each-folder-may-import): it may import undici and core's errors module,
// nothing else.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('.', import.meta.url));
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

describe('@lambda-testkit/core/client', () => {
  it.each(sources)('%s imports only undici, the errors module and its own files', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const specifiers = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    for (const spec of specifiers) {
      expect(spec, `${file} imports ${spec}`).toMatch(/^(undici|\.\.\/errors\.ts|\.\/[\w-]+\.ts)$/);
    }
  });
});
