export {
  callerInstanceId,
  DOCKER_HOST_ALIAS,
  endpointVariable,
  INSTANCE_SESSION_PREFIX,
  instanceCredentials,
  NETWORK_VARIABLE,
  networkName,
  SANDBOX_HOST_VARIABLE,
  sandboxUrl,
  type WiringPlan,
  type WiringPlanOptions,
  wiringPlan,
} from './sandbox-wiring.ts';
