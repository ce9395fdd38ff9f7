import { describe, expect, it } from 'vitest';
import {
  callerInstanceId,
  endpointVariable,
  instanceCredentials,
  networkName,
  sandboxUrl,
  wiringPlan,
} from './sandbox-wiring.ts';

describe('wiringPlan', () => {
  it('always names the host for functions, and nothing else without wiring options', () => {
    expect(wiringPlan({}, { sandboxHost: '127.0.0.1', serverPort: 4000 })).toEqual({
      environment: { LAMBDA_TESTKIT_HOST: '127.0.0.1' },
      hostPorts: [],
    });
  });

  it('rewrites loopback endpoints to the sandbox host and declares their ports', () => {
    const plan = wiringPlan(
      {
        hostPorts: [9000],
        awsEndpoints: {
          default: 'http://localhost:4566',
          dynamodb: 'http://127.0.0.1:8000',
          'secrets manager': 'https://[::1]',
          s3: 'http://minio:9000',
        },
      },
      { sandboxHost: 'host.lambda-testkit.internal' },
    );
    expect(plan.environment).toEqual({
      LAMBDA_TESTKIT_HOST: 'host.lambda-testkit.internal',
      AWS_ENDPOINT_URL: 'http://host.lambda-testkit.internal:4566',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://host.lambda-testkit.internal:8000',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://host.lambda-testkit.internal',
      // Not loopback: a service container's alias stays as written.
      AWS_ENDPOINT_URL_S3: 'http://minio:9000',
    });
    expect(plan.hostPorts).toEqual([443, 4566, 8000, 9000]);
  });

  it('takes a string as the endpoint of every service', () => {
    expect(wiringPlan({ awsEndpoints: 'http://127.0.0.1:4566/' }, { sandboxHost: '127.0.0.1' })).toEqual({
      environment: { LAMBDA_TESTKIT_HOST: '127.0.0.1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566/' },
      hostPorts: [4566],
    });
  });

  it('points Lambda at the pool server only when functions may invoke functions', () => {
    const off = wiringPlan({}, { sandboxHost: 'h', serverPort: 4000 });
    expect(off.environment.AWS_ENDPOINT_URL_LAMBDA).toBeUndefined();
    const on = wiringPlan({ functionsCanInvoke: true }, { sandboxHost: 'h', serverPort: 4000 });
    expect(on.environment.AWS_ENDPOINT_URL_LAMBDA).toBe('http://h:4000');
    expect(on.hostPorts).toEqual([4000]);
  });
});

describe('wiring helpers', () => {
  it('spells endpoint variables as AWS SDKs read them', () => {
    expect(endpointVariable('dynamodb')).toBe('AWS_ENDPOINT_URL_DYNAMODB');
    expect(endpointVariable('Elastic Beanstalk')).toBe('AWS_ENDPOINT_URL_ELASTIC_BEANSTALK');
    expect(endpointVariable('cognito-idp')).toBe('AWS_ENDPOINT_URL_COGNITO_IDP');
  });

  it('leaves loopback URLs as written where sandboxes share the loopback', () => {
    expect(sandboxUrl('http://localhost:8000', '127.0.0.1')).toEqual({
      url: 'http://localhost:8000',
      hostPort: 8000,
    });
  });

  it('leaves URLs of other hosts alone', () => {
    expect(sandboxUrl('http://dynamodb:8000', 'x')).toEqual({ url: 'http://dynamodb:8000' });
  });

  it('round-trips the calling instance through the session token', () => {
    const creds = instanceCredentials('run-token', 'i-123');
    expect(creds.AWS_ACCESS_KEY_ID).toBe('run-token');
    expect(callerInstanceId(creds.AWS_SESSION_TOKEN)).toBe('i-123');
    expect(callerInstanceId('some-real-session-token')).toBeUndefined();
    expect(callerInstanceId(undefined)).toBeUndefined();
  });

  it('takes a network by name or from a StartedNetwork', () => {
    expect(networkName('my-net')).toBe('my-net');
    expect(networkName({ getName: () => 'tc-net' })).toBe('tc-net');
    expect(networkName(undefined)).toBeUndefined();
  });
});
