import { lambdaTestkit } from '@lambda-testkit/vitest/plugin';
import { defineConfig } from 'vitest/config';

// Functions come from the SAM template, named by logical id. TypeScript handlers with
// `BuildMethod: esbuild` are bundled on the fly (no `sam build`); an edit gives a fresh instance
// on the next call in watch mode. `!Ref GreetingsTable` only exists once deployed: the override
// supplies a value for tests (and silences the warning about it).
export default defineConfig({
  plugins: [
    lambdaTestkit({
      sam: {
        template: './template.yaml',
        overrides: {
          GreetFunction: { environment: { TABLE_NAME: 'greetings-test' } },
        },
      },
    }),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // A cold start on Docker includes starting a container.
    testTimeout: 60_000,
  },
});
