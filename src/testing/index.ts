// Public entry `self-hosted-inference-core/testing`: tools for backend authors and tests.
export {};
