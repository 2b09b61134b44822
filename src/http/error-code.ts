/** The first `code` string on an error or along its `cause` chain (undici and Node put socket codes there). */
export function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when nothing listened at the address (`ECONNREFUSED`, on the error or its cause). */
export function isConnectionRefused(error: unknown): boolean {
  return errorCode(error) === 'ECONNREFUSED';
}
