export { FallbackBackend, type FallbackBackendOptions, type FallbackHandle } from './fallback-backend.ts';
