import type { ControlKernel } from '../control/control-kernel.js';

/**
 * The part of the kernel the gateway uses: it is a consumer like any other (ensure under a lease, renew,
 * release), reads instance states for `GET /v1/models` and load progress for streaming clients.
 */
export type GatewayKernel = Pick<
  ControlKernel,
  'ensureEndpoint' | 'renewLease' | 'releaseLease' | 'listInstances' | 'lookupInstance' | 'on'
>;
