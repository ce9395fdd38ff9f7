import type { ResolvedFunction } from '../../function-spec.ts';
import { deprecationWarning, findRuntime, imageOverride, runtimeInfo } from '../../runtimes.ts';

/**
 * The image a function runs in on a container backend: its own `image`, else the run's
 * `images[runtime]`, else the official base image. A deprecated runtime is warned about once per
 * backend (`warned` holds the runtimes already named) whichever image replaces its base image: the
 * function still declares a runtime that AWS no longer accepts.
 */
export function functionImage(
  fn: ResolvedFunction,
  images: Readonly<Record<string, string>> | undefined,
  warned: Set<string>,
  log: (line: string) => void,
): string {
  const known = findRuntime(fn.runtime);
  const warning = known && deprecationWarning(known);
  if (warning && !warned.has(fn.runtime)) {
    warned.add(fn.runtime);
    log(warning);
  }
  return imageOverride(fn, images) ?? runtimeInfo(fn.runtime).image;
}
