#!/usr/bin/env node
/**
 * The Node bootstrap's entry: runs the runtime client (main.ts). Kept apart from it so that a
 * process can load the client's modules before it knows its function and start it later
 * (backends/process/runtime-entry.ts).
 */
import { main } from './main.ts';

await main();
