// Run by host-imports.test.ts in a fresh Node (with the `lambda-testkit-source` condition): goes
// through a process-backend run step by step and prints, as JSON, the packages loaded after each step.
// Argument: a folder holding `handler/index.mjs` (handlers `echo` and `stream`) and `code.zip` (that
// folder zipped).
import { registerHooks } from 'node:module';
import { join } from 'node:path';

const loaded = new Set();
registerHooks({
  load(url, context, next) {
    loaded.add(url);
    return next(url, context);
  },
});

/** `pkg` or `@scope/pkg` of every module loaded from a node_modules folder so far. */
function packagesSoFar() {
  const names = new Set();
  for (const url of loaded) {
    const match = /\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match?.[1]) names.add(match[1]);
  }
  return [...names].sort();
}

const dir = process.argv[2];
const steps = {};
const host = await import('@lambda-testkit/core/host');
steps.entry = packagesSoFar();

const fn = (code, handler) => ({ runtime: 'nodejs22.x', handler, code, timeout: 30 });
const zipped = await host.loadConfig({
  cwd: dir,
  inline: {
    backend: 'process',
    functions: { echo: fn('code.zip', 'index.echo'), stream: fn('code.zip', 'index.stream') },
  },
});
await host.acquirePoolHost(zipped.config, { root: zipped.root, log: () => {} });
steps.acquireZip = packagesSoFar();

// A second configuration (another root) whose code is a folder: it is zipped when resolved.
const folder = await host.loadConfig({
  cwd: join(dir, 'handler'),
  inline: { functions: { fromFolder: fn('.', 'index.echo') } },
});
const handle = await host.acquirePoolHost(folder.config, { root: folder.root, log: () => {} });
steps.acquireFolder = packagesSoFar();

const { PoolClient } = await import('@lambda-testkit/core/client');
const client = new PoolClient({ url: handle.url, token: handle.token, region: handle.region });
const echoed = await client.invoke('echo', { hello: 'probe' });
steps.invoke = packagesSoFar();
const streamed = await (await client.invokeStream('stream', {})).collect();
steps.invokeStream = packagesSoFar();

await client.close();
await host.releasePoolHost({ keepAlive: false });
await host.releasePoolHost({ keepAlive: false });
process.stdout.write(
  JSON.stringify({
    steps,
    echoed: echoed.payload,
    streamed: Buffer.from(streamed.body).toString('utf8'),
    outcome: streamed.completion.outcome,
  }),
);
