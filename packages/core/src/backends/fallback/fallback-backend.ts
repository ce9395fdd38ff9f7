/**
 * A backend that runs each function on a primary backend, or on a fallback backend when the
 * primary cannot have it and the fallback can run it: `backend: 'auto'` on a machine where Docker
 * answers but no registry does runs the Node.js functions whose image cannot be pulled as local
 * processes, and the others in containers, in one run.
 *
 * It is a `LambdaBackend` like any other: the pool never learns that two backends serve it. Each
 * instance handle remembers the backend that launched it, so terminate, logs, stop-all and the
 * idle sweep reach the right one; `reapStale` and `close` go to both.
 */
import type {
  BackendWiring,
  LambdaBackend,
  LaunchContext,
  LaunchedInstance,
  PrepareProgress,
  PrepareResult,
  WiredHost,
} from '../../backend.ts';
import { BackendError, ErrorCodes } from '../../errors.ts';
import type { ResolvedFunction } from '../../function-spec.ts';
import type { InstanceLogs } from '../../instance-logs.ts';
import { stderrLog } from '../../log.ts';

/** The handle the pool holds: the launching backend's own handle, and that backend. */
export interface FallbackHandle {
  backend: LambdaBackend;
  handle: unknown;
}

export interface FallbackBackendOptions {
  primary: LambdaBackend;
  /** Made on first need (a run that never falls back creates nothing). */
  fallback: () => LambdaBackend;
  /**
   * Why `fn` goes to the fallback after the primary failed to prepare or launch it with `error`,
   * in a few words (`image "…" cannot be had here`), or undefined when the error stands.
   */
  fallsBackOn: (fn: ResolvedFunction, error: unknown) => string | undefined;
  /**
   * One line per function that falls back at launch (functions prepared before falling back are
   * reported by the caller of `prepare`, grouped).
   * @default a line on stderr
   */
  log?: (line: string) => void;
}

/**
 * `fn` as the fallback's sandboxes must see it: the wiring's variables (docs/wiring.md) name the
 * primary's host for the host (`host.lambda-testkit.internal` on Docker), which the fallback's
 * sandboxes reach under their own (`127.0.0.1` for processes).
 */
function onHostOf(fn: ResolvedFunction, primary: LambdaBackend, fallback: LambdaBackend): ResolvedFunction {
  const from = primary.sandboxHost ?? '127.0.0.1';
  const to = fallback.sandboxHost ?? '127.0.0.1';
  if (from === to) return fn;
  const environment = Object.fromEntries(
    Object.entries(fn.environment).map(([key, value]) => [key, value.replaceAll(from, to)]),
  );
  return { ...fn, environment };
}

/** `backend.prepareInstance`, or LAUNCH_FAILED for a backend that prepares nothing ahead. */
function prepareOn(backend: LambdaBackend, fn: ResolvedFunction, context: LaunchContext): Promise<unknown> {
  if (!backend.prepareInstance || !backend.startPrepared) {
    return Promise.reject(
      new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `The ${backend.name} backend prepares no instances ahead (spareInstances has no effect there).`,
      ),
    );
  }
  return backend.prepareInstance(fn, context);
}

export class FallbackBackend implements LambdaBackend<FallbackHandle> {
  readonly #primary: LambdaBackend;
  readonly #makeFallback: () => LambdaBackend;
  readonly #fallsBackOn: FallbackBackendOptions['fallsBackOn'];
  readonly #log: (line: string) => void;
  #fallback: LambdaBackend | undefined;
  /** Function name → why it runs on the fallback. */
  readonly #routed = new Map<string, string>();

  constructor(options: FallbackBackendOptions) {
    this.#primary = options.primary;
    this.#makeFallback = options.fallback;
    this.#fallsBackOn = options.fallsBackOn;
    this.#log = options.log ?? stderrLog;
  }

  /** Sandboxes reach the host as the primary's do; a function on the fallback is rewritten (see `launch`). */
  get sandboxHost(): string | undefined {
    return this.#primary.sandboxHost;
  }

  /** The run's wiring holds on the primary (the fallback's sandboxes share the host's loopback). */
  async wire(wiring: BackendWiring): Promise<WiredHost | undefined> {
    return this.#primary.wire?.(wiring);
  }

  /** `docker`, or `docker+process` once a function runs on the fallback. */
  get name(): string {
    return this.#fallback && this.#routed.size > 0
      ? `${this.#primary.name}+${this.#fallback.name}`
      : this.#primary.name;
  }

  /** The functions that run on the fallback, with why. */
  get fallenBack(): ReadonlyMap<string, string> {
    return this.#routed;
  }

  #fallbackBackend(): LambdaBackend {
    this.#fallback ??= this.#makeFallback();
    return this.#fallback;
  }

  /** Prepares on the primary; a function the primary cannot have is sent to the fallback. */
  async prepare(
    fn: ResolvedFunction,
    onProgress?: (p: PrepareProgress) => void,
  ): Promise<PrepareResult | undefined> {
    try {
      await this.#primary.prepare?.(fn, onProgress);
      // Prepared where it failed before (an image built or an override fixed since): back to the primary.
      this.#routed.delete(fn.name);
      return undefined;
    } catch (error) {
      const reason = this.#fallsBackOn(fn, error);
      if (reason === undefined) throw error;
      this.#routed.set(fn.name, reason);
      const fallback = this.#fallbackBackend();
      await fallback.prepare?.(fn, onProgress);
      return { notice: `run on the ${fallback.name} backend instead: ${reason}` };
    }
  }

  async launch(fn: ResolvedFunction, context: LaunchContext): Promise<LaunchedInstance<FallbackHandle>> {
    const { backend, value: launched } = await this.#onBackendOf(fn, (b, f) => b.launch(f, context));
    // Everything the backend said about the instance (its invoke secret too), around our handle.
    return { ...launched, handle: { backend, handle: launched.handle } };
  }

  /**
   * Prepares an instance (`spareInstances`) on the backend the function runs on: the primary, or the
   * fallback once the function was routed there. A backend that cannot prepare fails the preparation,
   * which leaves the pool's scale-outs to plain launches.
   */
  async prepareInstance(fn: ResolvedFunction, context: LaunchContext): Promise<FallbackHandle> {
    const { backend, value: handle } = await this.#onBackendOf(fn, (b, f) => prepareOn(b, f, context));
    return { backend, handle };
  }

  /**
   * Runs `attempt` on the primary, unless `fn` was routed to the fallback before; a failure of the
   * primary that the fallback covers routes `fn` there (said once in the log) and runs `attempt` on the
   * fallback, with the function's host-side addresses rewritten for it.
   */
  async #onBackendOf<T>(
    fn: ResolvedFunction,
    attempt: (backend: LambdaBackend, fn: ResolvedFunction) => Promise<T>,
  ): Promise<{ backend: LambdaBackend; value: T }> {
    if (!this.#routed.has(fn.name)) {
      try {
        return { backend: this.#primary, value: await attempt(this.#primary, fn) };
      } catch (error) {
        // A function no prepare saw (added by a watch rerun) meets the missing image here.
        const reason = this.#fallsBackOn(fn, error);
        if (reason === undefined) throw error;
        this.#routed.set(fn.name, reason);
        this.#log(`${fn.name}: run on the ${this.#fallbackBackend().name} backend instead: ${reason}`);
      }
    }
    const fallback = this.#fallbackBackend();
    return { backend: fallback, value: await attempt(fallback, onHostOf(fn, this.#primary, fallback)) };
  }

  async startPrepared(prepared: FallbackHandle): Promise<LaunchedInstance<FallbackHandle>> {
    const { backend, handle } = prepared;
    if (!backend.startPrepared) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `The ${backend.name} backend cannot start a prepared instance.`,
      );
    }
    const launched = await backend.startPrepared(handle);
    return { ...launched, handle: prepared };
  }

  terminate(handle: FallbackHandle): Promise<void> {
    return handle.backend.terminate(handle.handle);
  }

  logs(handle: FallbackHandle): InstanceLogs | undefined {
    return handle.backend.logs?.(handle.handle);
  }

  /** Both backends sweep what dead runs left (the fallback's leftovers may be from an earlier run). */
  async reapStale(): Promise<number> {
    const counts = await Promise.all([
      this.#primary.reapStale?.() ?? 0,
      this.#fallbackBackend().reapStale?.() ?? 0,
    ]);
    return counts.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await Promise.all([this.#primary.close?.(), this.#fallback?.close?.()]);
  }
}
