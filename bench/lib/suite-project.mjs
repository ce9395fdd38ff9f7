// Writes the Vitest projects the suite benches run: small functions, test files that invoke them
// through `@lambda-testkit/vitest` as a user's would, the same tests calling the handlers in-process
// (what a mock costs), and the same tests against the floor of any process-per-function design.
// Everything goes under `bench/.suite-project/` (ignored by git). `@lambda-testkit/*` load from the
// packages' built `dist/`, as from a user's install (`ensureBuilt()` builds them first).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const projectDir = join(here, '..', '.suite-project');
export const vitestBin = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');

// A user's install keeps `@lambda-testkit/*` under node_modules, which Vitest hands to Node untransformed.
// Here they are workspace links whose real paths lie outside node_modules: say the same of their dist/.
const serverCode = `{ deps: { external: [/\\/packages\\/(core|vitest)\\/dist\\//] } }`;

/**
 * Builds the packages' `dist/` once per `pnpm bench` (bench/run.mjs builds and sets
 * BENCH_PACKAGES_BUILT for the benches it starts), so a run never measures a stale build.
 */
export function ensureBuilt() {
  if (process.env.BENCH_PACKAGES_BUILT === '1') return;
  const started = performance.now();
  const result = spawnSync('pnpm', ['build'], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) {
    throw new Error(
      `pnpm build exited with ${result.status ?? result.signal}${result.error ? ` (${result.error.message})` : ''}: the benches run the built packages`,
    );
  }
  console.error(`  packages built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.env.BENCH_PACKAGES_BUILT = '1';
}

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function handlerSource(k) {
  return `// A small function: event in, a computed object out.
export const handler = async (event) => ({ fn: ${k}, n: event.n, doubled: event.n * 2 });
`;
}

/**
 * The suite of issue 12: `files` test files × `tests` tests over `functions` functions, each test one
 * invoke and two expects. File f's test i calls function (i + 3f) mod `functions`: every file goes
 * over every function, offset from the others.
 */
export function writeSuiteProject({ files, tests, functions, workers }) {
  rmSync(projectDir, { recursive: true, force: true });
  for (let k = 0; k < functions; k++) write(join(projectDir, `functions/fn${k}/index.mjs`), handlerSource(k));
  const declarations = Array.from(
    { length: functions },
    (_, k) => `    fn${k}: { runtime: 'nodejs22.x', code: './functions/fn${k}', handler: 'index.handler' },`,
  ).join('\n');
  // Backend and image come from LAMBDA_TESTKIT_BACKEND / LAMBDA_TESTKIT_IMAGE; the bench's variants
  // (prewarm, scale-out policy) from BENCH_SUITE_* variables read here.
  write(
    join(projectDir, 'vitest.lambda.config.mjs'),
    `import { lambdaTestkit } from '@lambda-testkit/vitest/plugin';
import { defineConfig } from 'vitest/config';

const scaleOutWaitMs = Number(process.env.BENCH_SUITE_SCALE_OUT_WAIT_MS ?? 0);
export default defineConfig({
  plugins: [
    lambdaTestkit({
      functions: {
${declarations}
      },
      prewarm: process.env.BENCH_SUITE_PREWARM === '1',
      ...(scaleOutWaitMs > 0 ? { scaleOutWaitMs } : {}),
    }),
  ],
  test: { server: ${serverCode}, include: ['lambda/*.test.mjs'], maxWorkers: ${workers}, testTimeout: 60_000 },
});
`,
  );
  write(
    join(projectDir, 'vitest.inprocess.config.mjs'),
    `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['inprocess/*.test.mjs'], maxWorkers: ${workers} },
});
`,
  );
  // The floor: each function a bare Node process (an HTTP server that imports the handler and calls
  // it), started by a global setup, called by the tests over one keep-alive connection each. No
  // emulator, pool, sandbox or Lambda protocol: what any design with a process per function pays.
  write(
    join(projectDir, 'floor-server.mjs'),
    `import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const { handler } = await import(pathToFileURL(process.argv[2]).href);
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const out = await handler(JSON.parse(Buffer.concat(chunks).toString()), {});
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(out));
  });
});
// A port and host as arguments in a container; any free port on loopback on the host.
server.listen(Number(process.argv[3] ?? 0), process.argv[4] ?? '127.0.0.1', () =>
  process.stdout.write(server.address().port + '\\n'),
);
`,
  );
  // The same floor with each function's process in a container of the Docker suites' image (its
  // entrypoint replaced by Node running the floor server), started through the engine's API with
  // its port on loopback, answering once it does: what any design with a container per function pays.
  write(
    join(projectDir, 'floor-docker-setup.mjs'),
    `import { connectEngine } from '@lambda-testkit/core';
import { request } from 'undici';

async function answered(port) {
  for (const deadline = Date.now() + 60_000; ; ) {
    try {
      const res = await request('http://127.0.0.1:' + port + '/', { method: 'POST', body: '{"n":0}' });
      await res.body.text();
      if (res.statusCode === 200) return;
    } catch {
      // the engine's proxy accepts before the server in the container listens
    }
    if (Date.now() > deadline) throw new Error('a floor container did not answer on port ' + port);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export default async function setup(project) {
  const root = project.config.root;
  const docker = (await connectEngine()).container.dockerode;
  const containers = [];
  const stop = () => Promise.all(containers.map((c) => c.remove({ force: true }).catch(() => {})));
  try {
    const ports = await Promise.all(
      Array.from({ length: ${functions} }, async (_, k) => {
        const container = await docker.createContainer({
          Image: process.env.LAMBDA_TESTKIT_IMAGE,
          Entrypoint: ['/var/lang/bin/node'],
          Cmd: ['/floor/floor-server.mjs', '/floor/functions/fn' + k + '/index.mjs', '8080', '0.0.0.0'],
          ExposedPorts: { '8080/tcp': {} },
          HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Binds: [root + ':/floor:ro'] },
        });
        containers.push(container);
        await container.start();
        const info = await container.inspect();
        const port = Number(info.NetworkSettings.Ports['8080/tcp'][0].HostPort);
        await answered(port);
        return port;
      }),
    );
    project.provide('floorPorts', ports);
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}
`,
  );
  write(
    join(projectDir, 'vitest.floor-docker.config.mjs'),
    `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['floor/*.test.mjs'], globalSetup: ['./floor-docker-setup.mjs'], maxWorkers: ${workers}, testTimeout: 60_000 },
});
`,
  );
  write(
    join(projectDir, 'floor-setup.mjs'),
    `import { spawn } from 'node:child_process';
import { join } from 'node:path';

export default async function setup(project) {
  const root = project.config.root;
  const children = [];
  const ports = await Promise.all(
    Array.from({ length: ${functions} }, (_, k) => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, 'floor-server.mjs'), join(root, 'functions', 'fn' + k, 'index.mjs')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      child.once('error', reject);
      child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    })),
  );
  project.provide('floorPorts', ports);
  return () => {
    for (const child of children) child.kill();
  };
}
`,
  );
  write(
    join(projectDir, 'vitest.floor.config.mjs'),
    `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['floor/*.test.mjs'], globalSetup: ['./floor-setup.mjs'], maxWorkers: ${workers} },
});
`,
  );
  for (let f = 0; f < files; f++) {
    const cases = `const FILE = ${f};
for (let i = 0; i < ${tests}; i++) {
  const k = (i + 3 * FILE) % ${functions};`;
    write(
      join(projectDir, `lambda/file-${f}.test.mjs`),
      `import { it } from '@lambda-testkit/vitest';
import { expect } from 'vitest';

${cases}
  it(\`fn\${k} answers call \${i}\`, async ({ lambda }) => {
    const res = await lambda.invoke(\`fn\${k}\`, { n: i });
    expect(res.functionError).toBeUndefined();
    expect(res.payload).toEqual({ fn: k, n: i, doubled: i * 2 });
  });
}
`,
    );
    const imports = Array.from(
      { length: functions },
      (_, k) => `import { handler as fn${k} } from '../functions/fn${k}/index.mjs';`,
    ).join('\n');
    write(
      join(projectDir, `inprocess/file-${f}.test.mjs`),
      `import { expect, it } from 'vitest';
${imports}

const handlers = [${Array.from({ length: functions }, (_, k) => `fn${k}`).join(', ')}];
${cases}
  it(\`fn\${k} answers call \${i}\`, async () => {
    const payload = await handlers[k]({ n: i }, {});
    expect(payload).toBeTypeOf('object');
    expect(payload).toEqual({ fn: k, n: i, doubled: i * 2 });
  });
}
`,
    );
    write(
      join(projectDir, `floor/file-${f}.test.mjs`),
      `import { Agent, request } from 'node:http';
import { expect, inject, it } from 'vitest';

const ports = inject('floorPorts');
const agent = new Agent({ keepAlive: true });
function call(k, event) {
  const body = JSON.stringify(event);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: ports[k], method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
${cases}
  it(\`fn\${k} answers call \${i}\`, async () => {
    const payload = await call(k, { n: i });
    expect(payload).toBeTypeOf('object');
    expect(payload).toEqual({ fn: k, n: i, doubled: i * 2 });
  });
}
`,
    );
  }
}

export const parallelProjectDir = join(here, '..', '.parallel-project');

/**
 * The warm-invoke project: `files` test files (one Vitest worker each), file k invoking function
 * `w<k>` through the `lambda` fixture and, in alternating blocks, sending the same event straight to
 * that function's instance (its endpoint and invoke secret come from `bench-setup.mjs`, which starts
 * the run's pool host with a backend that remembers them). Each file writes its samples as JSON.
 */
export function writeParallelProject({ files, tests, block, warmup, invokePath, secretHeader }) {
  rmSync(parallelProjectDir, { recursive: true, force: true });
  write(join(parallelProjectDir, 'functions/echo/index.mjs'), handlerSource(0));
  const functions = Array.from(
    { length: files },
    (_, k) => `  w${k}: { runtime: 'nodejs22.x', code: './functions/echo', handler: 'index.handler' },`,
  ).join('\n');
  write(join(parallelProjectDir, 'functions.mjs'), `export const functions = {\n${functions}\n};\n`);
  // Started before the plugin's own global setup, which then joins this pool host.
  write(
    join(parallelProjectDir, 'bench-setup.mjs'),
    `import { acquirePoolHost, ProcessBackend, releasePoolHost } from '@lambda-testkit/core';
import { functions } from './functions.mjs';

export default async function setup(project) {
  const inner = new ProcessBackend();
  const instances = {};
  // The backend as it is, remembering each instance's endpoint and invoke secret.
  const backend = {
    name: inner.name,
    launch: async (fn, context) => {
      const launched = await inner.launch(fn, context);
      instances[fn.name] = { endpoint: launched.endpoint, secret: launched.invokeSecret };
      return launched;
    },
    terminate: (handle) => inner.terminate(handle),
    logs: inner.logs?.bind(inner),
    close: inner.close?.bind(inner),
  };
  await acquirePoolHost({ functions, prewarm: true }, { root: project.config.root, backend });
  project.provide('benchInstances', instances);
  return () => releasePoolHost();
}
`,
  );
  write(
    join(parallelProjectDir, 'vitest.config.mjs'),
    `import { lambdaTestkit } from '@lambda-testkit/vitest/plugin';
import { defineConfig } from 'vitest/config';
import { functions } from './functions.mjs';

export default defineConfig({
  plugins: [lambdaTestkit({ functions, prewarm: true })],
  test: { server: ${serverCode}, include: ['tests/*.test.mjs'], globalSetup: ['./bench-setup.mjs'], maxWorkers: ${files}, testTimeout: 60_000 },
});
`,
  );
  for (let k = 0; k < files; k++) {
    write(
      join(parallelProjectDir, `tests/file-${k}.test.mjs`),
      `import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { it } from '@lambda-testkit/vitest';
import { Client } from 'undici';
import { afterAll, expect, inject } from 'vitest';

const NAME = 'w${k}';
const { endpoint, secret } = inject('benchInstances')[NAME];
// One keep-alive connection to the instance, as the pool holds one.
const direct = new Client(endpoint, { pipelining: 1 });
const samples = { pool: [], direct: [] };

async function viaFixture(lambda, n) {
  const t0 = performance.now();
  const res = await lambda.invoke(NAME, { n });
  const ms = performance.now() - t0;
  expect(res.functionError).toBeUndefined();
  expect(res.payload.n).toBe(n);
  return ms;
}
async function straight(n) {
  const t0 = performance.now();
  const res = await direct.request({
    method: 'POST',
    path: ${JSON.stringify(invokePath)},
    headers: { 'content-type': 'application/json', ${JSON.stringify(secretHeader)}: secret },
    body: JSON.stringify({ n }),
  });
  const payload = JSON.parse(await res.body.text());
  const ms = performance.now() - t0;
  expect(res.statusCode).toBe(200);
  expect(payload.n).toBe(n);
  return ms;
}

it('warms up both paths', async ({ lambda }) => {
  for (let n = 0; n < ${warmup}; n++) {
    await viaFixture(lambda, n);
    await straight(n);
  }
});
afterAll(async () => {
  writeFileSync(process.env.BENCH_SAMPLES_DIR + '/' + NAME + '.json', JSON.stringify(samples));
  await direct.close();
});

for (let t = 0; t < ${tests}; t++) {
  it(\`block \${t}\`, async ({ lambda }) => {
    // Alternating which side goes first, so both see the same load.
    const sides = t % 2 === 0 ? ['pool', 'direct'] : ['direct', 'pool'];
    for (const side of sides) {
      for (let b = 0; b < ${block}; b++) {
        const n = t * ${block} + b;
        samples[side].push(side === 'pool' ? await viaFixture(lambda, n) : await straight(n));
      }
    }
  });
}
`,
    );
  }
}

/**
 * Runs `vitest run` with `args` in `cwd` (this checkout's Vitest, the source condition set), its
 * output collected rather than shown: resolves with the exit code, the output and the wall time from
 * spawn to exit.
 */
export function runVitestCollecting(cwd, args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [vitestBin, 'run', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, wallMs: performance.now() - started }));
  });
}
