// The init-ahead tests' function: its init (this module's top level) counts its attempts in a file
// and, for the first SLOW_ATTEMPTS of them, takes SLOW_INIT_MS.
import { appendFileSync, readFileSync } from 'node:fs';

const counter = process.env.INIT_COUNTER_FILE;
appendFileSync(counter, 'x');
const attempt = readFileSync(counter, 'utf8').length;
console.log(`init attempt ${attempt}`);
if (attempt <= Number(process.env.SLOW_ATTEMPTS ?? 0)) {
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.SLOW_INIT_MS)));
}

export const handler = async () => ({
  attempt,
  initializationType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
});
