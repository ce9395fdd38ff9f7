// Test doubles for suites that need no Docker: a fake backend, an in-process fake RIE, and a
// ResolvedFunction builder.
export type { FakeBackendOptions, FakeHandle, FakeLaunchRecord } from './fake-backend.ts';
export { FakeBackend } from './fake-backend.ts';
export type { FakeRieHandler, FakeRieOptions, FakeRieReply, FakeRieRequest } from './fake-rie.ts';
export { FakeRie } from './fake-rie.ts';
export { resolvedFunction } from './resolved-function.ts';
export { TemporaryFolder } from './temporary-folder.ts';
