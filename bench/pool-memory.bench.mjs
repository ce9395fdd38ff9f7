#!/usr/bin/env node
// Memory of the pool host with 20 warm process-backend functions (issue 12): the resident size (RSS)
// of the pool's own process, and of its child processes (runtimes, spare runtimes, the orphan
// guard) stated separately, with their proportional set size (PSS, shared pages divided among the
// processes that map them) where Linux reports it.
//
//   pnpm bench -- pool-memory
//   BENCH_FUNCTIONS=20 node bench/pool-memory.bench.mjs
//
// No goal is set for it (the issue asks for the figure): it prints no TARGET line. Linux only (/proc).
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '../packages/core/src/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const FUNCTIONS = Number(process.env.BENCH_FUNCTIONS ?? 20);
const MB = 1024 * 1024;

/** Resident and proportional size of `pid` in bytes (PSS undefined where smaps_rollup is missing). */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  let pss;
  try {
    pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]) * 1024;
  } catch {
    pss = undefined;
  }
  return { rss, pss };
}

/** Every live descendant of `root`, with the script it runs (argv[1]'s file name) as its kind. */
function descendants(root) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parent.set(Number(name), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found = [];
  const walk = (pid) => {
    for (const [child, ppid] of parent) {
      if (ppid !== pid) continue;
      const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
      const script = argv[1] === '-e' ? 'node -e (the orphan guard)' : basename(argv[1] ?? argv[0]);
      found.push({ pid: child, kind: `${script}${role(child)}` });
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** A runtime in a folder the backend has not given to a function yet is an idle spare. */
function role(pid) {
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    if (!existsSync(join(cwd, '..', 'runtime'))) return ''; // not in an instance folder
    return existsSync(join(cwd, '..', 'instance.json')) ? ' (instance)' : ' (idle spare)';
  } catch {
    return '';
  }
}

const backend = new core.ProcessBackend();
const runId = `bench-${randomUUID().slice(0, 8)}`;
const pool = new core.WarmPool({ backend, runId });
const before = process.memoryUsage().rss;
try {
  const names = [];
  for (let i = 0; i < FUNCTIONS; i++) {
    const fn = await core.resolveFunction(
      {
        name: `memory-${i}`,
        runtime: 'nodejs22.x',
        handler: 'index.handler',
        code: join(here, 'process-backend.fixture'),
      },
      { root: here },
    );
    pool.register(fn);
    names.push(fn.name);
  }
  // One after the other, as a suite's first calls mostly come; each leaves one warm instance.
  for (const name of names) {
    const outcome = await pool.invoke(name, Buffer.from('{"n":1}'));
    if (outcome.kind !== 'success')
      throw new Error(`invoke of ${name} failed: ${outcome.payload.toString()}`);
  }
  await backend.sparesReady();
  global.gc?.();
  const host = memoryOf(process.pid);
  const children = descendants(process.pid).map((c) => ({ ...c, ...memoryOf(c.pid) }));
  const kinds = new Map();
  for (const c of children) {
    const k = kinds.get(c.kind) ?? { n: 0, rss: 0, pss: 0 };
    k.n += 1;
    k.rss += c.rss;
    k.pss += c.pss ?? Number.NaN;
    kinds.set(c.kind, k);
  }
  const sum = children.reduce((a, c) => ({ rss: a.rss + c.rss, pss: a.pss + (c.pss ?? Number.NaN) }), {
    rss: 0,
    pss: 0,
  });
  const mb = (b) => (Number.isFinite(b) ? `${(b / MB).toFixed(1)} MB` : 'n/a').padStart(12);
  console.log(
    `pool-memory bench — node ${process.version}, ${availableParallelism()} CPUs, ${FUNCTIONS} warm functions on the process backend\n`,
  );
  console.log(`${''.padEnd(44)}${'processes'.padStart(10)}${'RSS'.padStart(12)}${'PSS'.padStart(12)}`);
  console.log(`${'pool host (this process)'.padEnd(44)}${'1'.padStart(10)}${mb(host.rss)}${mb(host.pss)}`);
  console.log(`${'  of which before the pool started'.padEnd(44)}${''.padStart(10)}${mb(before)}`);
  for (const [kind, k] of [...kinds].sort()) {
    console.log(`${`child: ${kind}`.padEnd(44)}${String(k.n).padStart(10)}${mb(k.rss)}${mb(k.pss)}`);
  }
  console.log(
    `${'children, summed'.padEnd(44)}${String(children.length).padStart(10)}${mb(sum.rss)}${mb(sum.pss)}`,
  );
  console.log(
    `${'host + children, per function'.padEnd(44)}${''.padStart(10)}${mb((host.rss + sum.rss) / FUNCTIONS)}${mb((host.pss + sum.pss) / FUNCTIONS)}`,
  );
} finally {
  await pool.stopAll();
  await backend.close();
}
