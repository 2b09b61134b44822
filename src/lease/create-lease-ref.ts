import { randomFillSync } from 'node:crypto';

const REF_BYTES = 16;
const POOL_BYTES = REF_BYTES * 256;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

// Refilling a pooled buffer amortizes the CSPRNG call over 256 refs; acquire is the kernel's hot path.
/** A fresh, unguessable lease reference: `lease_` + 16 random bytes in base64url (22 characters). */
export function createLeaseRef(): string {
  if (offset === POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const ref = `lease_${pool.toString('base64url', offset, offset + REF_BYTES)}`;
  offset += REF_BYTES;
  return ref;
}
