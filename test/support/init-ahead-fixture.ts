/** The handler both backends' prewarm-init suites run: it records when its module-level code ran. */
import { fileURLToPath } from 'node:url';

export const initAheadFixtureDir = fileURLToPath(new URL('./fixtures/init-ahead/', import.meta.url));
