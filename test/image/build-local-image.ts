#!/usr/bin/env node
// Builds the local Lambda image from this checkout's emulator sources; prints the tag on the last line.
//   node test/image/build-local-image.ts [--tag name:tag] [--force]
import { parseArgs } from 'node:util';
import { ensureLocalImage } from './local-image.ts';

const { values } = parseArgs({ options: { tag: { type: 'string' }, force: { type: 'boolean' } } });
const image = await ensureLocalImage({
  ...(values.tag ? { tag: values.tag } : {}),
  force: values.force ?? false,
  onProgress: (m) => console.error(m),
});
console.log(image.tag);
