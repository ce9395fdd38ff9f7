// Helpers every backend may reuse (unpacking archives, owner files, process liveness).
// Internal to core: backends import these modules directly; nothing here is public API.
export * from './extract-archive.ts';
export * from './owner-file.ts';
export * from './process-liveness.ts';
export * from './run-owner.ts';
