/**
 * Spare runtimes of the process backend: Node processes started ahead of need, each in an instance
 * folder of its own (its cwd and LAMBDA_TASK_ROOT), that have loaded lambda-testkit's bootstrap and
 * wait for a function (runtime-entry.ts). A launch that finds a fitting spare unpacks the code into
 * the spare's folder and hands it over; the sandbox gives it the function's runtime environment at
 * the first invoke, where it would otherwise have spawned a process. Starting Node and loading the
 * bootstrap (most of a cold start) is then already done.
 *
 * Which spare fits: Node reads some variables once, as the process starts (NODE_OPTIONS with the
 * heap limit that follows the memory size, NODE_PATH, LANG, LD_LIBRARY_PATH, HOME for require's
 * global folders, …). A spare is started with those of the function that asked for it, computed
 * for the spare's own folder, and is only given to a function whose values for them, computed for
 * that folder, are the same. Everything else (AWS_*, the function's own variables, _HANDLER, TZ,
 * PATH, TMPDIR, which Node reads when used) comes with the assignment, which replaces the
 * environment wholesale.
 *
 * A per-instance mount namespace (each runtime seeing its own /var/task, /opt, /tmp) layers on at
 * the one place a runtime is spawned (`runtimeCommand` in process-backend.ts): a spare is spawned
 * inside it with its own, still empty, instance folders bound, and they are filled at assignment.
 */
import { Writable } from 'node:stream';
import type { RuntimeOutput } from '../../emulator/runtime-process.ts';
import type { LineLog } from '../../instance-logs.ts';

/** Variables Node (or the C library under it) reads only as the process starts. */
const STARTUP_VARIABLE = /^(?:NODE_|UV_|LD_|LC_|MALLOC_|OPENSSL_|SSL_CERT_)|^(?:LANG|LANGUAGE|HOME)$/;

/** Variables a spare is also started with: what a process may look at before its function comes. */
const ALSO_AT_START = ['PATH', 'TMPDIR', 'TZ', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR'];

/** The startup-read part of a runtime environment, as a comparable key. */
export function startupKey(runtimeEnv: Record<string, string>): string {
  const keys = Object.keys(runtimeEnv)
    .filter((k) => STARTUP_VARIABLE.test(k))
    .sort();
  return JSON.stringify(keys.map((k) => [k, runtimeEnv[k]]));
}

/**
 * The environment a spare starts with: the startup-read variables and a few harmless ones of the
 * runtime environment it is started for (no function name, no credentials, no handler), plus
 * `extra` (the spare marker, the compile cache).
 */
export function spareEnvironment(
  runtimeEnv: Record<string, string>,
  extra: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(runtimeEnv)) {
    if (STARTUP_VARIABLE.test(key) || ALSO_AT_START.includes(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * A runtime's stdout and stderr, each cut into whole lines before they go into the instance's one
 * log, so that the two streams never interleave inside a line.
 */
export function lineOutput(log: LineLog): RuntimeOutput {
  const stream = () => {
    let partial = '';
    return new Writable({
      write(chunk: Buffer, _encoding, done) {
        const text = partial + chunk.toString('utf8');
        const end = text.lastIndexOf('\n');
        if (end < 0) partial = text;
        else {
          log.write(text.slice(0, end + 1));
          partial = text.slice(end + 1);
        }
        done();
      },
      final(done) {
        if (partial) log.write(`${partial}\n`);
        partial = '';
        done();
      },
    });
  };
  return { stdout: stream(), stderr: stream() };
}
