/**
 * The script a process-backend runtime starts with: it loads lambda-testkit's Node bootstrap, then
 * runs it. Two things happen first, both invisible to the function:
 *
 * - Node's compile cache is on (the backend starts the runtime with NODE_COMPILE_CACHE, which Node
 *   reads as it starts, and `LAMBDA_TESTKIT_COMPILE_CACHE=1` saying that the variable is the
 *   backend's): this script and the bootstrap's modules (TypeScript when core runs from its sources,
 *   whose type stripper alone takes tens of ms to load) are not stripped and compiled again by
 *   every runtime. Both variables are removed from `process.env` before the function's code runs.
 * - A runtime started ahead of its function (`LAMBDA_TESTKIT_SPARE=1`, a spare of the process
 *   backend) loads the bootstrap's modules, then waits for one JSON line `{ "env": {…} }` on its
 *   stdin: the function's runtime environment, exactly what a runtime spawned for it would have
 *   been given. `process.env` is emptied and refilled with it (so the function's environment is
 *   built from scratch, as Lambda's init builds it), and the bootstrap starts with it: it reads
 *   `_HANDLER`, `AWS_LAMBDA_RUNTIME_API`, … from there and imports the handler. The backend only
 *   hands a spare to a function whose variables read at process start (NODE_OPTIONS, NODE_PATH,
 *   LANG, …; process-spares.ts) equal the spare's, and whose task root is the spare's own folder
 *   (its cwd).
 *
 * It imports only `node:` builtins and finds the bootstrap at `../../bootstrap/node/` beside itself
 * (`.ts` from sources, `.js` once built).
 */
import { closeSync, readdirSync, readSync, writeSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const COMPILE_CACHE_VARIABLE = 'LAMBDA_TESTKIT_COMPILE_CACHE';
const SPARE_VARIABLE = 'LAMBDA_TESTKIT_SPARE';

const cached = process.env[COMPILE_CACHE_VARIABLE] === '1';
const spare = process.env[SPARE_VARIABLE] === '1';
dropOwnVariables();

const ext = extname(fileURLToPath(import.meta.url));
const bootstrapDir = new URL('../../bootstrap/node/', import.meta.url);
// Every module of the bootstrap but its entry (which starts the runtime loop as it is evaluated):
// all compiled now, so nothing is left to strip or compile once the function comes.
const modules = readdirSync(bootstrapDir).filter(
  (f) => f.endsWith(ext) && !f.endsWith(`.d${ext}`) && !f.includes('.test.') && f !== `index${ext}`,
);
await Promise.all(modules.map((f) => import(new URL(f, bootstrapDir).href)));
const { main } = (await import(new URL(`main${ext}`, bootstrapDir).href)) as { main: () => Promise<void> };
// Runtimes end by SIGKILL (timeouts, terminate), which skips the cache's write at exit.
if (cached) flushCompileCache();

if (spare) {
  // Ready: fd 3 is the backend's readiness pipe; closed, so that the function never sees it.
  try {
    writeSync(3, 'ready\n');
    closeSync(3);
  } catch {
    // Started without it (by hand): nobody waits.
  }
  const line = readAssignment();
  if (line === undefined) process.exit(0); // the backend let the spare go before using it
  const { env } = JSON.parse(line) as { env: Record<string, string> };
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);
  dropOwnVariables();
}
await main();

/** This script's variables are the backend's, not the function's. */
function dropOwnVariables(): void {
  if (process.env[COMPILE_CACHE_VARIABLE] === '1') delete process.env.NODE_COMPILE_CACHE;
  delete process.env[COMPILE_CACHE_VARIABLE];
  delete process.env[SPARE_VARIABLE];
}

/** One line from stdin (a blocking read: a spare has nothing else to do), or undefined at EOF. */
function readAssignment(): string | undefined {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      throw error;
    }
    if (n === 0) return undefined;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
    const text = Buffer.concat(chunks).toString('utf8');
    const end = text.indexOf('\n');
    if (end >= 0) return text.slice(0, end);
  }
}
