/**
 * A Testcontainers `GenericContainer` whose published ports listen on one host interface only.
 *
 * Why a subclass: Testcontainers 12.2 publishes every exposed port as `{ HostPort: "0" }` with no
 * `HostIp` (generic-container.js `withExposedPorts`), which Docker binds on all interfaces, and it
 * has no option to change that. A Lambda sandbox runs whatever code is under test, with dummy
 * credentials, and must not be reachable from the network. `beforeContainerCreated` is the hook
 * Testcontainers calls right before `POST /containers/create`, with `hostConfig` still editable.
 */
import { GenericContainer } from 'testcontainers';

export class LambdaContainer extends GenericContainer {
  readonly #hostIp: string;

  constructor(image: string, hostIp: string) {
    super(image);
    this.#hostIp = hostIp;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const bindings = this.hostConfig.PortBindings as
      | Record<string, Array<Record<string, string>>>
      | undefined;
    for (const list of Object.values(bindings ?? {})) {
      for (const binding of list) binding.HostIp = this.#hostIp;
    }
  }
}
