/**
 * Environment variables the host honours over the configuration: CI uses them to switch backends or
 * images without editing configs.
 */

import { resolve } from 'node:path';
import type { KubernetesBackendOptions } from '../backends/kubernetes/kubernetes-backend.ts';
import { BACKEND_CHOICES, type BackendChoice, isBackendChoice, type TestkitConfig } from '../config.ts';
import { ConfigError, ErrorCodes } from '../errors.ts';
import type { FunctionSpec } from '../function-spec.ts';
import { imageOverride } from '../runtimes.ts';

/** A backend name (`BACKEND_CHOICES`): beats `config.backend`. */
export const ENV_BACKEND = 'LAMBDA_TESTKIT_BACKEND';
/** One image for every function: beats each function's `image` and `config.images`. */
export const ENV_IMAGE = 'LAMBDA_TESTKIT_IMAGE';
/** The Kubernetes backend's namespace: beats `config.kubernetes.namespace`. */
export const ENV_KUBERNETES_NAMESPACE = 'LAMBDA_TESTKIT_KUBERNETES_NAMESPACE';

/** The backend asked for: `LAMBDA_TESTKIT_BACKEND` when set, else `config.backend`, else `auto`. */
export function backendChoice(config: TestkitConfig, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const fromEnv = env[ENV_BACKEND];
  if (fromEnv === undefined || fromEnv === '') return config.backend ?? 'auto';
  if (isBackendChoice(fromEnv)) return fromEnv;
  throw new ConfigError(
    ErrorCodes.CONFIG_INVALID,
    `${ENV_BACKEND} must be ${BACKEND_CHOICES.slice(0, -1).join(', ')} or ${BACKEND_CHOICES.at(-1)}, got ${JSON.stringify(fromEnv)}.`,
    { details: { [ENV_BACKEND]: fromEnv } },
  );
}

/** `LAMBDA_TESTKIT_IMAGE` beats everything; then the function's own `image`; then `config.images`. */
export function withImageOverride(
  spec: FunctionSpec,
  config: TestkitConfig,
  env: NodeJS.ProcessEnv = process.env,
): FunctionSpec {
  const image = env[ENV_IMAGE] || imageOverride(spec, config.images);
  return image ? { ...spec, image } : spec;
}

/** Function names (or aliases), comma-separated, whose runtime starts with the Node inspector. */
export const ENV_DEBUG = 'LAMBDA_TESTKIT_DEBUG';
/** `1`/`true`: every debugged function holds its runtime until a debugger attaches. */
export const ENV_DEBUG_WAIT = 'LAMBDA_TESTKIT_DEBUG_WAIT';

/**
 * `LAMBDA_TESTKIT_DEBUG=<name>[,<name>]` turns `debug` on for those functions (names or aliases),
 * `LAMBDA_TESTKIT_DEBUG_WAIT=1` makes every debugged function wait for its debugger. A name that
 * is not among `specs` is an error: a typo would otherwise debug nothing, silently.
 */
export function withDebugOverride(
  specs: FunctionSpec[],
  env: NodeJS.ProcessEnv = process.env,
): FunctionSpec[] {
  const names = (env[ENV_DEBUG] ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const waitRaw = env[ENV_DEBUG_WAIT];
  const wait = waitRaw !== undefined && waitRaw !== '' && waitRaw !== '0' && waitRaw !== 'false';
  if (names.length === 0 && !wait) return specs;
  const known = (spec: FunctionSpec, name: string) => spec.name === name || spec.aliases?.includes(name);
  for (const name of names) {
    if (!specs.some((spec) => known(spec, name))) {
      throw new ConfigError(
        ErrorCodes.UNKNOWN_FUNCTION,
        `${ENV_DEBUG} names "${name}", which is not a function of this configuration. ` +
          `Known functions: ${specs.map((s) => s.name).join(', ') || '(none)'}. Fix the name in ${ENV_DEBUG}.`,
        { details: { [ENV_DEBUG]: env[ENV_DEBUG], name } },
      );
    }
  }
  return specs.map((spec) => {
    const on = names.some((name) => known(spec, name)) || (spec.debug !== undefined && spec.debug !== false);
    if (!on) return spec;
    const declared = typeof spec.debug === 'object' && spec.debug !== null ? spec.debug : {};
    return { ...spec, debug: { ...declared, ...(wait ? { wait: true } : {}) } };
  });
}

/**
 * The Kubernetes backend's cluster options from `config.kubernetes`: `LAMBDA_TESTKIT_KUBERNETES_NAMESPACE`
 * beats its namespace, and a relative kubeconfig path is taken from the config's root.
 */
export function kubernetesOptions(
  config: TestkitConfig,
  env: NodeJS.ProcessEnv = process.env,
): KubernetesBackendOptions {
  const k = config.kubernetes ?? {};
  const namespace = env[ENV_KUBERNETES_NAMESPACE] || k.namespace;
  return {
    ...(namespace ? { namespace } : {}),
    ...(k.context ? { context: k.context } : {}),
    ...(k.kubeconfig ? { kubeconfig: resolve(config.root ?? process.cwd(), k.kubeconfig) } : {}),
  };
}
