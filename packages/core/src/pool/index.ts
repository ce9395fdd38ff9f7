// Barrel of the warm pool: function resolution, deploy ids, the invoke client and the pool itself.
export type { DeployIdInput, LaunchConfiguration } from './deploy-id.ts';
export { canonicalJson, computeDeployId } from './deploy-id.ts';
export type { ResolveFunctionOptions } from './resolve-function.ts';
export { resolveFunction } from './resolve-function.ts';
export { sha256Base64, zipDirectory } from './zip.ts';
