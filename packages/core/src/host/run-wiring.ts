/**
 * The wiring of one run (docs/wiring.md): from the configurations the pool host loads to the
 * variables functions see and to what the backend must open. The pool host owns one.
 */
import type { LambdaBackend } from '../backend.ts';
import type { TestkitConfig } from '../config.ts';
import type { FunctionSpec, ResolvedFunction } from '../function-spec.ts';
import {
  instanceCredentials,
  NETWORK_VARIABLE,
  networkName,
  type WiringPlan,
  wiringPlan,
} from '../sandbox-wiring.ts';

export interface RunWiringOptions {
  backend: LambdaBackend;
  /** The run token: functions that may invoke functions present it to the pool server. */
  token: string;
  /** The pool server's port on 127.0.0.1. */
  serverPort: number;
  log: (line: string) => void;
}

interface Declared {
  plan: WiringPlan;
  network: string | undefined;
  functionsCanInvoke: boolean;
}

export class RunWiring {
  readonly #options: RunWiringOptions;
  /** Per configuration (by root), as last loaded. */
  readonly #declared = new Map<string, Declared>();
  /** Functions whose configuration lets them invoke functions (they get the run's credentials). */
  readonly #invokers = new Set<string>();
  #said = '';

  constructor(options: RunWiringOptions) {
    this.#options = options;
  }

  get sandboxHost(): string {
    return this.#options.backend.sandboxHost ?? '127.0.0.1';
  }

  /**
   * Takes `config` (loaded from `root`) into the run's wiring and makes the backend open what the
   * union of all configurations declares. Resolves with the variables its functions get.
   */
  async apply(config: TestkitConfig, root: string): Promise<Record<string, string>> {
    const plan = wiringPlan(config, { sandboxHost: this.sandboxHost, serverPort: this.#options.serverPort });
    const joined = networkName(config.network);
    // The network is not in the environment by nature, but an instance launched on another one
    // must not serve: named here, it is part of the deploy id (containers only: processes join none).
    if (joined && this.sandboxHost !== '127.0.0.1') plan.environment[NETWORK_VARIABLE] = joined;
    this.#declared.set(root, {
      plan,
      network: joined,
      functionsCanInvoke: config.functionsCanInvoke === true,
    });
    const ports = new Set<number>();
    let network: string | undefined;
    for (const d of this.#declared.values()) {
      for (const port of d.plan.hostPorts) ports.add(port);
      network ??= d.network;
    }
    const hostPorts = [...ports].sort((a, b) => a - b);
    const wired = await this.#options.backend.wire?.({ network, hostPorts });
    this.#say(network, hostPorts, wired?.address);
    return plan.environment;
  }

  /** `spec` with the wiring's variables under its own `environment` (which wins), and noted as an invoker. */
  applyTo(spec: FunctionSpec, root: string, environment: Record<string, string>): FunctionSpec {
    if (this.#declared.get(root)?.functionsCanInvoke) this.#invokers.add(spec.name);
    else this.#invokers.delete(spec.name);
    return { ...spec, environment: { ...environment, ...spec.environment } };
  }

  /** Per-instance variables (WarmPool's `launchEnvironment`): the run's credentials, naming the instance. */
  launchEnvironment(fn: ResolvedFunction, instanceId: string): Record<string, string> | undefined {
    return this.#invokers.has(fn.name) ? instanceCredentials(this.#options.token, instanceId) : undefined;
  }

  /** One line when what is reachable changes (said at start, and after a watch rerun changed it). */
  #say(network: string | undefined, hostPorts: number[], address: string | undefined): void {
    const server = this.#options.serverPort;
    const others = hostPorts.filter((p) => p !== server);
    const invokers = [...this.#declared.values()].some((d) => d.functionsCanInvoke);
    const parts: string[] = [];
    // Host processes join no network (the process backend says so itself).
    if (network && this.sandboxHost !== '127.0.0.1') parts.push(`containers join network ${network}`);
    const via = address ? ` (forwarded on ${address})` : '';
    if (others.length)
      parts.push(`functions reach host port(s) ${others.join(', ')} at ${this.sandboxHost}${via}`);
    if (invokers && hostPorts.includes(server)) {
      parts.push(
        this.sandboxHost === '127.0.0.1'
          ? `functions invoke functions through the pool server (127.0.0.1:${server})`
          : `the pool server also answers containers at ${this.sandboxHost}:${server}${address ? ` (${address}:${server})` : ''}, same token, for functions that invoke functions`,
      );
    }
    const line = parts.length ? `wiring: ${parts.join('; ')}` : '';
    if (line && line !== this.#said) this.#options.log(line);
    this.#said = line;
  }
}
