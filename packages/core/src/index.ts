// Public entry of @lambda-testkit/core: the names users and the runner adapters build on, chosen
// one by one (the errors module and the pool's option and report types as a whole) and listed, by purpose, in docs/architecture.md
// ("Public surface"). Everything else stays inside the package; this repository's own suites reach
// it through `@lambda-testkit/core/internal`. The worker side is `@lambda-testkit/core/client`.

export type {
  BackendWiring,
  LambdaBackend,
  LaunchContext,
  LaunchedInstance,
  PrepareProgress,
  PrepareResult,
  WiredHost,
} from './backend.ts';
export type { DockerBackendOptions, DockerInstance } from './backends/docker/index.ts';
export {
  type BuildLocalImageOptions,
  buildLocalImage,
  connectEngine,
  DockerBackend,
  isEngineAvailable,
  type LocalImage,
  type ReapOptions,
  reapStaleContainers,
  type StaleContainer,
} from './backends/docker/index.ts';
export type { KubernetesBackendOptions, KubernetesInstance } from './backends/kubernetes/index.ts';
export { KubernetesBackend } from './backends/kubernetes/index.ts';
export type { ProcessBackendOptions, ProcessInstance } from './backends/process/index.ts';
export { ProcessBackend } from './backends/process/index.ts';
export type { LoadConfigOptions, LoadedConfig } from './config/index.ts';
export { loadConfig } from './config/index.ts';
export type { BackendChoice, KubernetesConfig, NetworkRef, TestkitConfig } from './config.ts';
export { defineConfig } from './config.ts';
export { DEBUG_TIMEOUT_SECONDS } from './debug.ts';
export * from './errors.ts';
export type {
  Architecture,
  BundleLoader,
  BundleOptions,
  DebugOptions,
  FunctionDeclaration,
  FunctionSpec,
  ResolvedArchive,
  ResolvedFunction,
} from './function-spec.ts';
export { DEFAULT_MEMORY_SIZE_MB, DEFAULT_TIMEOUT_SECONDS } from './function-spec.ts';
export type {
  AcquirePoolHostOptions,
  PoolHostHandle,
  ReleasePoolHostOptions,
  SelectBackendOptions,
  SummaryRow,
} from './host/index.ts';
export {
  acquirePoolHost,
  currentPoolHost,
  ENV_BACKEND,
  ENV_DEBUG,
  ENV_DEBUG_WAIT,
  ENV_IMAGE,
  formatSummary,
  PoolHost,
  poolHostSummary,
  releasePoolHost,
  selectBackend,
} from './host/index.ts';
export type { InstanceLogs, InvocationLogs, LogCapture } from './instance-logs.ts';
export { LineLog } from './instance-logs.ts';
export type {
  FunctionErrorBody,
  InvocationKind,
  InvocationOutcome,
  InvokeOptions,
  StreamedInvocation,
  StreamedOutcome,
} from './invocation.ts';
export type { ApplicationLogLevel, LogFormat, LoggingConfig, SystemLogLevel } from './logging-config.ts';
export type { ResolveFunctionOptions } from './packaging/index.ts';
export { resolveFunction } from './packaging/index.ts';
export type { DurationSummary } from './pool/index.ts';
export { WarmPool } from './pool/index.ts';
export type * from './pool/pool-types.ts';
export type { LeftOutFunctions, PoolServerOptions, ServedPool } from './server/index.ts';
export { createRunToken, PoolServer } from './server/index.ts';
export type {
  CdkSourceOptions,
  FunctionOverride,
  LoadedFunctions,
  LoadFunctionSpecsOptions,
  SamSourceOptions,
  UnrunnableFunction,
} from './sources/index.ts';
export { loadFunctionSpecs, loadFunctions } from './sources/index.ts';
