// Barrel of function packaging: a FunctionSpec resolved to zipped code and layers, hashed into a deploy id.

export type { DeployIdInput, LaunchConfiguration } from './deploy-id.ts';
export { canonicalJson, computeDeployId } from './deploy-id.ts';
export type { ResolveFunctionOptions } from './resolve-function.ts';
export { resolveFunction } from './resolve-function.ts';
export { sha256Base64, zipDirectory } from './zip.ts';
