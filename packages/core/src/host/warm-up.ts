/**
 * What the host does before any test runs: make every image present (one pull per image) and start
 * the instances `prewarm` asks for.
 */
import type { LambdaBackend } from '../backend.ts';
import type { TestkitConfig } from '../config.ts';
import { BackendError, ConfigError, ErrorCodes } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import type { WarmPool } from '../pool/warm-pool.ts';

/**
 * Makes every declared function's image present before any test runs, one pull per image, with
 * progress. A pull inside the first invoke would count against that test's timeout and look like
 * a hang; an image that cannot be had (no registry, a typo in an override) fails the setup once,
 * naming every such image, instead of failing each test that calls the function.
 */
export async function prepareImages(
  backend: LambdaBackend,
  resolved: readonly ResolvedFunction[],
  log: (line: string) => void,
): Promise<void> {
  if (!backend.prepare || resolved.length === 0) return;
  const byImage = new Map<string, ResolvedFunction>();
  for (const fn of resolved) byImage.set(fn.image ?? fn.runtime, fn);
  const settled = await Promise.allSettled(
    [...byImage.values()].map((fn) => backend.prepare?.(fn, (p) => log(p.message))),
  );
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

/** Starts one instance of each function `config.prewarm` names (all of them for `true`). */
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
