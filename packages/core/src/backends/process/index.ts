// Barrel of this concern; add its public exports here.
export type { ProcessBackendOptions, ProcessInstance } from './process-backend.ts';
export { ProcessBackend } from './process-backend.ts';
