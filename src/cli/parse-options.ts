import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration flag: `1500` (ms), `1500ms`, `30s`, `5m`, `1h`. @throws InvalidArgumentError (exit 2) */
export function parseDurationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const ms = match ? Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > 2_147_483_647) {
    throw new InvalidArgumentError(`expected a positive duration like 60000, 30s or 5m, got "${value}".`);
  }
  return ms;
}

/** Parses a positive integer flag. @throws InvalidArgumentError (exit 2) */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}".`);
  return n;
}

/** Parses a TCP port flag (0 = pick a free one). @throws InvalidArgumentError (exit 2) */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError(`expected a port 0–65535, got "${value}".`);
  return n;
}

/** Levels `--log-level` accepts (pino's, plus `silent`). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Parses `--log-level`. @throws InvalidArgumentError (exit 2) listing the valid levels */
export function parseLogLevel(value: string): (typeof LOG_LEVELS)[number] {
  const level = LOG_LEVELS.find((l) => l === value.trim().toLowerCase());
  if (!level) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}, got "${value}".`);
  return level;
}
