// The emulator as a library (subpath `@lambda-testkit/core/emulator`); not in core's main barrel,
// so the main entry stays independent of it. This folder imports only `node:` builtins.
export {
  DEFAULT_ACCOUNT_ID,
  EmulatorConfigError,
  type FunctionConfig,
  RUNTIME_ID_VARIABLE,
} from './config.ts';
export {
  defaultBootstrapPath,
  type EmulatorOptions,
  PortInUseError,
  type RunningEmulator,
  startEmulator,
} from './emulator.ts';
export {
  type DirectAnswer,
  type DirectInvokeRequest,
  PROFILES,
  type Profile,
} from './invoke-handling.ts';
export {
  INVOKE_SECRET_HEADER,
  INVOKE_SECRET_VARIABLE,
  MAX_PAYLOAD_BYTES,
  RIE_INVOKE_PATH,
} from './protocol.ts';
export type { RuntimeOutput } from './runtime-process.ts';
