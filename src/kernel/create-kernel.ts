import { Kernel } from './kernel.js';
import { type KernelOptions, resolveKernelOptions } from './kernel-options.js';

/**
 * Creates a kernel: registers the given backends, and in the background reaps processes a crashed earlier
 * kernel left behind in `stateDir` (every ensure waits for that first). Call `close()` when done.
 * @throws ContractValidationError / DuplicateBackendError for a bad or duplicate backend.
 */
export function createKernel(options: KernelOptions = {}): Kernel {
  return new Kernel(resolveKernelOptions(options));
}
