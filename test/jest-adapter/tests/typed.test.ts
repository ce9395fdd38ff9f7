// TypeScript through ts-jest (compiled to CommonJS): typed results and the adapter's exports.
import { describe, expect, it } from '@jest/globals';
import { type InvokeResult, isTestkitError, LambdaTestkitError, lambda } from '@lambda-testkit/jest';

interface Echo<T> {
  event: T;
  functionName: string;
  requestId: string;
}

describe('lambda helper (TypeScript, ts-jest)', () => {
  it('returns a typed payload', async () => {
    const res: InvokeResult<Echo<{ n: number }>> = await lambda.invoke<Echo<{ n: number }>>('echo', { n: 7 });
    expect(res.payload.event.n).toBe(7);
    expect(res.payload.functionName).toBe('echo');
    expect(typeof res.durationMs).toBe('number');
    expect(res.instanceId).not.toBe('');
  });

  it('hands the AWS SDK a config pointing at the pool server', () => {
    const sdk = lambda.sdkConfig();
    expect(sdk.endpoint).toBe(process.env.LAMBDA_TESTKIT_URL);
    expect(sdk.credentials.accessKeyId).toBe(process.env.LAMBDA_TESTKIT_TOKEN);
    // The configured region (lambda-testkit.config.mjs), not the client's us-east-1 default.
    expect(sdk.region).toBe('eu-west-3');
  });

  it('narrows errors with isTestkitError', async () => {
    const error: unknown = await lambda.invoke('', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LambdaTestkitError);
    if (!isTestkitError(error)) throw new Error('expected a LambdaTestkitError');
    expect(error.code).toBe('LTK_UNKNOWN_FUNCTION');
  });
});
