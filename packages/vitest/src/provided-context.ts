/**
 * What the global setup hands to test workers through Vitest's `provide`/`inject`
 * (structured-clone data only: docs/runner-integration.md#provide-and-inject), and its typing.
 */

/** The pool server of this run: enough for a worker to build a client. */
export interface LambdaTestkitProvided {
  url: string;
  token: string;
  region: string;
  /** Set when the run debugs a function: the client waits this long for an answer. */
  requestTimeoutMs?: number;
}

/** The `provide` key. */
export const PROVIDE_KEY = 'lambdaTestkit';

declare module 'vitest' {
  export interface ProvidedContext {
    lambdaTestkit: LambdaTestkitProvided;
  }
}
