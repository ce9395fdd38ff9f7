/**
 * What the host does before any test runs: make every image present (one pull per image) and start
 * the instances `prewarm` asks for.
 */
import type { LambdaBackend, PrepareProgress } from '../backend.ts';
import type { TestkitConfig } from '../config.ts';
import { BackendError, ConfigError, ErrorCodes } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import type { WarmPool } from '../pool/warm-pool.ts';

/**
 * Makes every declared function's image present before any test runs, one pull per image, with
 * progress. A pull inside the first invoke would count against that test's timeout and look like
 * a hang; an image that cannot be had (no registry, a typo in an override) fails the setup once,
 * naming every such image, instead of failing each test that calls the function. A backend may
 * instead run a function elsewhere and say so (`PrepareResult.notice`, e.g. `auto`'s process
 * fallback): one line per notice names every function it concerns.
 */
export async function prepareImages(
  backend: LambdaBackend,
  resolved: readonly ResolvedFunction[],
  log: (line: string) => void,
): Promise<void> {
  if (!backend.prepare || resolved.length === 0) return;
  const byImage = new Map<string, ResolvedFunction[]>();
  for (const fn of resolved) {
    const key = fn.image ?? fn.runtime;
    byImage.set(key, [...(byImage.get(key) ?? []), fn]);
  }
  const progress = (p: PrepareProgress) => log(p.message);
  const settled = await Promise.allSettled(
    [...byImage.values()].map(async ([first, ...rest]) => {
      const result = first ? await backend.prepare?.(first, progress) : undefined;
      const notices: [string, string | undefined][] = [[first?.name ?? '', result?.notice]];
      // The image's first function went elsewhere: the others of that image are asked too (the
      // backend remembers the failed pull, so this costs no second pull), each to be routed.
      if (result?.notice) {
        for (const fn of rest) notices.push([fn.name, (await backend.prepare?.(fn, progress))?.notice]);
      }
      return notices;
    }),
  );
  const byNotice = new Map<string, string[]>();
  for (const s of settled) {
    if (s.status !== 'fulfilled') continue;
    for (const [name, notice] of s.value)
      if (notice) byNotice.set(notice, [...(byNotice.get(notice) ?? []), name]);
  }
  for (const [notice, names] of byNotice) log(`${names.join(', ')}: ${notice}`);
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) {
    const reasons = failures.map((e) => (e instanceof Error ? e.message : String(e)));
    throw new BackendError(
      ErrorCodes.IMAGE_UNAVAILABLE,
      `${failures.length} images could not be made present:\n- ${reasons.join('\n- ')}`,
      { cause: failures[0], details: { failures: reasons } },
    );
  }
}

/**
 * Starts one instance of each function `config.prewarm` names (all of them for `true`), its init run
 * ahead where the sandbox can (WarmPool.prewarm, docs/emulator.md#init-ahead).
 */
export async function prewarm(
  pool: WarmPool,
  config: TestkitConfig,
  resolved: readonly ResolvedFunction[],
  backendName: string,
  log: (line: string) => void,
): Promise<void> {
  const wanted = config.prewarm === true ? resolved.map((f) => f.name) : config.prewarm || [];
  const unknown = wanted.filter((name) => !pool.has(name));
  if (unknown.length) {
    throw new ConfigError(
      ErrorCodes.UNKNOWN_FUNCTION,
      `prewarm names ${unknown.join(', ')}, which the configuration does not declare. ` +
        `Declared: ${pool.functionNames().join(', ')}.`,
      { details: { unknown } },
    );
  }
  if (wanted.length === 0) return;
  const started = Date.now();
  // The pool bounds concurrent launches (maxConcurrentLaunches), so all can be asked at once.
  await Promise.all(wanted.map((name) => pool.prewarm(name)));
  log(`prewarmed ${wanted.join(', ')} on ${backendName} in ${Date.now() - started} ms`);
}
