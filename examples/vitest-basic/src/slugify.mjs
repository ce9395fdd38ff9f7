// A function whose dependency comes from a layer: `slug-maker` is in the layer's
// nodejs/node_modules, which Lambda extracts under /opt and resolves through NODE_PATH.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { makeSlug } = require('slug-maker');

/** @param {{ title: string }} event */
export const handler = async (event) => {
  if (typeof event?.title !== 'string') throw new TypeError('event.title must be a string');
  return { slug: makeSlug(event.title, process.env.SLUG_SEPARATOR) };
};
