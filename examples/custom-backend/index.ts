// An example third-party backend package: import it as you would `my-backend` from npm.
export { type CommandBackendOptions, createCommandBackend, PORT_PLACEHOLDER } from './command-backend.js';
