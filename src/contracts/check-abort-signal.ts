import { ContractValidationError } from '../errors/error-catalog.js';

/**
 * The one check of a caller's `signal` option at the kernel's edge (it is not part of any zod contract): a
 * non-signal would otherwise fail as an untyped TypeError deep inside a start that has already begun.
 * @throws ContractValidationError (`invalid_request`) naming `signal` and the contract.
 */
export function checkAbortSignal(signal: unknown, contract: string): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new ContractValidationError('invalid_request', contract, [
    {
      path: 'signal',
      message: `must be an AbortSignal (received ${typeof signal})`,
      received: typeof signal,
    },
  ]);
}
