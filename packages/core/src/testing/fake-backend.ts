/**
 * A `LambdaBackend` for tests that need no Docker: each launch starts an in-process FakeRie on
 * 127.0.0.1. It records launches and terminations, can be told to fail launches or to kill an
 * instance (its endpoint then refuses connections), and exposes each instance's FakeRie.
 */
import type { LambdaBackend, LaunchContext, LaunchedInstance } from '../backend.ts';
import { BackendError, ErrorCodes } from '../errors.ts';
import type { ResolvedFunction } from '../function-spec.ts';
import type { InstanceLogs } from '../instance-logs.ts';
import { FakeRie, type FakeRieHandler } from './fake-rie.ts';

export interface FakeHandle {
  instanceId: string;
  functionName: string;
  deployId: string;
}

export interface FakeLaunchRecord extends FakeHandle {
  runId: string;
  region: string;
  accountId: string;
  /** The launch was asked to run the init ahead (`LaunchContext.initAhead`, the pool's prewarm). */
  initAhead?: true;
}

export interface FakeBackendOptions {
  /** Answers calls of every instance; gets the function it was launched for. @default echo */
  handler?: (fn: ResolvedFunction, context: LaunchContext) => FakeRieHandler;
  /** Delay before a launch resolves, to widen races in tests. @default 0 */
  launchDelayMs?: number;
  /** Give instances a LineLog (START/END/REPORT lines) through `logs()`. @default true */
  logs?: boolean;
}

export class FakeBackend implements LambdaBackend<FakeHandle> {
  readonly name = 'fake';
  /** Every launch that succeeded, in order. */
  readonly launches: FakeLaunchRecord[] = [];
  /** Instance ids passed to `terminate`, in order (repeats included: terminate is idempotent). */
  readonly terminations: string[] = [];
  /** Launch attempts, including failed ones. */
  launchAttempts = 0;
  launchDelayMs: number;
  #handler: (fn: ResolvedFunction, context: LaunchContext) => FakeRieHandler;
  #withLogs: boolean;
  #instances = new Map<string, FakeRie>();
  #failNext = 0;
  #deadOnArrival = 0;
  #inFlightLaunches = 0;
  #peakLaunches = 0;

  constructor(options: FakeBackendOptions = {}) {
    this.#handler = options.handler ?? (() => (request) => ({ body: request.body }));
    this.launchDelayMs = options.launchDelayMs ?? 0;
    this.#withLogs = options.logs ?? true;
  }

  /** The next `count` launches reject. */
  failNextLaunches(count = 1): void {
    this.#failNext += count;
  }

  /** The next `count` launches succeed, but their endpoint refuses connections (a dead instance). */
  deadOnArrival(count = 1): void {
    this.#deadOnArrival += count;
  }

  async launch(fn: ResolvedFunction, context: LaunchContext): Promise<LaunchedInstance<FakeHandle>> {
    this.launchAttempts++;
    this.#inFlightLaunches++;
    this.#peakLaunches = Math.max(this.#peakLaunches, this.#inFlightLaunches);
    try {
      if (this.launchDelayMs > 0) await new Promise((r) => setTimeout(r, this.launchDelayMs));
      if (this.#failNext > 0) {
        this.#failNext--;
        throw new Error(`fake launch failure for ${fn.name}`);
      }
      const rie = new FakeRie({ handler: this.#handler(fn, context), memorySize: fn.memorySize });
      const endpoint = await rie.start();
      const handle: FakeHandle = {
        instanceId: context.instanceId,
        functionName: fn.name,
        deployId: fn.deployId,
      };
      this.#instances.set(context.instanceId, rie);
      this.launches.push({
        ...handle,
        runId: context.runId,
        region: context.region,
        accountId: context.accountId,
        ...(context.initAhead ? { initAhead: true as const } : {}),
      });
      if (this.#deadOnArrival > 0) {
        this.#deadOnArrival--;
        await rie.close();
      }
      return { endpoint, handle };
    } finally {
      this.#inFlightLaunches--;
    }
  }

  async terminate(handle: FakeHandle): Promise<void> {
    this.terminations.push(handle.instanceId);
    await this.#instances.get(handle.instanceId)?.close();
  }

  logs(handle: FakeHandle): InstanceLogs | undefined {
    return this.#withLogs ? this.#instances.get(handle.instanceId)?.log : undefined;
  }

  /** The FakeRie of an instance. */
  instance(instanceId: string): FakeRie {
    const rie = this.#instances.get(instanceId);
    if (!rie) {
      throw new BackendError(
        ErrorCodes.LAUNCH_FAILED,
        `FakeBackend never launched instance "${instanceId}".`,
      );
    }
    return rie;
  }

  /** Kills an instance behind the pool's back: its endpoint refuses connections from now on. */
  async kill(instanceId: string): Promise<void> {
    await this.instance(instanceId).close();
  }

  /** Instances whose server still listens (launched and neither terminated nor killed). */
  running(): string[] {
    return [...this.#instances].filter(([, rie]) => rie.listening).map(([id]) => id);
  }

  /** The highest peak of concurrent requests any instance saw. */
  peakConcurrencyPerInstance(): number {
    return Math.max(0, ...[...this.#instances.values()].map((rie) => rie.peakConcurrency));
  }

  /** The most launches that were under way at once. */
  get peakConcurrentLaunches(): number {
    return this.#peakLaunches;
  }
}
