import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a secret: what is kept and compared instead of the secret itself. */
export function secretDigest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * True when an `Authorization: Bearer <token>` header carries one of the expected secrets (given as
 * {@link secretDigest}s). Hashing both sides gives equal-length buffers, so `timingSafeEqual` never throws and
 * leaks no length; every expected digest is compared, so the time says nothing about which one matched.
 */
export function bearerMatches(header: string | undefined, expected: readonly Buffer[]): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = secretDigest(match[1]!.trim());
  let ok = false;
  for (const digest of expected) ok = timingSafeEqual(given, digest) || ok;
  return ok;
}
