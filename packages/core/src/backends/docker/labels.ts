/**
 * Labels lambda-testkit puts on what it creates in the engine. Containers carry the run and the
 * owning process, so a later run (or `lambda-testkit clean`) can tell leftovers of a dead run from
 * the containers of a live one. Images carry their content hash, so a rebuild can be skipped.
 *
 * Image labels use a different prefix on purpose: a container inherits its image's labels, and a
 * container somebody started by hand from the local image must not look like one of ours.
 */
import {
  ContainerLabels,
  LIBRARY_NAME,
  LIBRARY_VERSION,
  LABEL_PREFIX as PREFIX,
} from '../shared/object-labels.ts';

export { ContainerLabels, LIBRARY_NAME, LIBRARY_VERSION };

export const ImageLabels = {
  hash: `${PREFIX}.image.hash`,
  builder: `${PREFIX}.image.builder`,
  nodeVersion: `${PREFIX}.image.node-version`,
} as const;
