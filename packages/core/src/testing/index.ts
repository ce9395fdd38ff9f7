// Test doubles for suites that need no Docker: a fake backend and an in-process fake RIE.
export type { FakeBackendOptions, FakeHandle, FakeLaunchRecord } from './fake-backend.ts';
export { FakeBackend } from './fake-backend.ts';
export type { FakeRieHandler, FakeRieOptions, FakeRieReply, FakeRieRequest } from './fake-rie.ts';
export { FakeRie } from './fake-rie.ts';
