// The worker-side client is loaded in every test worker and bundled to CommonJS for Jest
// (docs/architecture.md#what-each-folder-may-import): it may import undici and core's errors module,
// nothing else; the event-stream reader alone also imports @smithy/core's codec (CommonJS too), and
// only lazily, on the first invokeStream.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('.', import.meta.url));
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
const READER = 'event-stream-reader.ts';

describe('@lambda-testkit/core/client', () => {
  it.each(sources)('%s imports only undici, the errors module and its own files', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const specifiers = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    const allowed =
      file === READER
        ? /^@smithy\/core\/(event-streams|serde)$/
        : /^(undici|\.\.\/errors\.ts|\.\/(?!event-stream-reader)[\w-]+\.ts)$/;
    for (const spec of specifiers) {
      expect(spec, `${file} imports ${spec}`).toMatch(allowed);
    }
  });

  it('loads the event-stream reader only when a stream is invoked (dynamic import)', () => {
    const client = readFileSync(join(dir, 'pool-client.ts'), 'utf8');
    expect(client).toContain(`await import('./${READER}')`);
  });

  it('decodes the codec under CommonJS (as the Jest bundle loads it)', async () => {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const { EventStreamCodec } =
      require('@smithy/core/event-streams') as typeof import('@smithy/core/event-streams');
    expect(typeof EventStreamCodec).toBe('function');
  });
});
