// Type tests of the public API (checked by `pnpm typecheck`; the runtime part only shapes values).
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { describe, expectTypeOf, inject, it as vitestIt } from 'vitest';
import {
  type FunctionError,
  type InvokeResult,
  it,
  type LambdaFixture,
  type LambdaTestkitProvided,
  lambda,
  test,
} from './index.ts';

describe('public types', () => {
  vitestIt('types the fixture, the import and provide/inject', () => {
    expectTypeOf(lambda).toEqualTypeOf<LambdaFixture>();
    expectTypeOf(it).toEqualTypeOf(test);
    expectTypeOf(inject('lambdaTestkit')).toEqualTypeOf<LambdaTestkitProvided>();
  });

  test('gives tests the `lambda` fixture', ({ lambda: fixture }) => {
    expectTypeOf(fixture).toEqualTypeOf<LambdaFixture>();
  });

  vitestIt('types results by payload and events by handler types', () => {
    const call = () =>
      lambda.invoke<APIGatewayProxyResultV2, APIGatewayProxyEventV2>('api', {} as APIGatewayProxyEventV2);
    expectTypeOf<Awaited<ReturnType<typeof call>>>().toEqualTypeOf<InvokeResult<APIGatewayProxyResultV2>>();
    expectTypeOf<InvokeResult<{ id: string }>['payload']>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<InvokeResult['error']>().toEqualTypeOf<FunctionError | undefined>();
    expectTypeOf<InvokeResult['functionError']>().toEqualTypeOf<'Unhandled' | undefined>();
  });
});
