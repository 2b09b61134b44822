// Public entry `self-hosted-inference-core/testing/vitest`: the conformance kit as a vitest suite. Kept apart
// from `self-hosted-inference-core/testing` so the GGUF writer and the plain checks load without vitest.
export { describeBackendConformance } from '../conformance/describe-backend-conformance.js';
