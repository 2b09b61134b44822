// An example third-party backend package (`shic-backend-command`): what shic.yaml loads and what code imports.
import { type CommandBackendOptions, createCommandBackend } from './command-backend.js';

export { type CommandBackendOptions, createCommandBackend, PORT_PLACEHOLDER } from './command-backend.js';

/** The Backend specification this package implements; `shic up` refuses a package made for another one. */
export const specificationVersion = 'v1';

/** The factory `shic up` calls with a `backends:` entry's `options`. */
export function createBackend(options: CommandBackendOptions) {
  return createCommandBackend(options);
}
