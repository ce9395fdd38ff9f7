// Worker entry of @lambda-testkit/jest: what test files import. Built to CommonJS (dist/index.cjs)
// plus an ESM wrapper, so it loads in CJS, babel-jest, ts-jest and native-ESM test files alike;
// nothing here may pull in testcontainers, archiver, p-queue or any other ESM-only package
// (docs/runner-integration.md#jest-and-es-modules; testcontainers/testcontainers-node#1365 shows the
// breakage).

export type { TestkitConfig } from '@lambda-testkit/core';
// The client's option and result types (invoke options, results, stats, the SDK configuration).
export type * from '@lambda-testkit/core/client/types';
// Core's errors module as a whole: the classes and codes a test matches failures on.
export * from '@lambda-testkit/core/errors';
export type { LambdaHelper } from './lambda.ts';
export { lambda } from './lambda.ts';
