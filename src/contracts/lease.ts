import { z } from 'zod';
import { defineContract } from './define-contract.js';
import { metadataSchema } from './vocabulary.js';

/** A time-limited claim on an instance; the instance is not idle-stopped while any lease is live. */
export const leaseSchema = z.strictObject({
  leaseRef: z.string().min(1),
  instanceId: z.string().min(1),
  ownerRef: z.string().min(1),
  /** Time-to-live in ms, counted from the last acquire or renew. */
  ttlMs: z.number().int().positive(),
  /** Epoch ms at which the lease expires unless renewed. */
  expiresAt: z.number().int(),
  /** Epoch ms of acquisition. */
  acquiredAt: z.number().int(),
  renewable: z.boolean().default(true),
  exclusive: z.boolean().default(false),
  metadata: metadataSchema.default({}),
});
export type Lease = z.output<typeof leaseSchema>;

export const leaseContract = defineContract('Lease', 'invalid_contract', leaseSchema);
export const parseLease = leaseContract.parse;
export const safeParseLease = leaseContract.safeParse;
