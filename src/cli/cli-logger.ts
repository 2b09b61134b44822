import { type Level, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

/** Paths pino redacts in every CLI log record, in case a header or key reaches a log call. */
const REDACT = [
  'headers.authorization',
  '*.headers.authorization',
  'apiKey',
  '*.apiKey',
  'bootSpec.apiKey',
  '*.bootSpec.apiKey',
  'token',
];

/**
 * The CLI's logger on stderr: human-readable (pino-pretty) when stderr is a terminal, JSON lines otherwise,
 * so a supervisor or log shipper gets structured records.
 */
export function createCliLogger(options: { level?: Level | 'silent'; pretty?: boolean } = {}): Logger {
  const level = options.level ?? 'info';
  const usePretty = options.pretty ?? Boolean(process.stderr.isTTY);
  // errWithCause keeps an error's own message and nests its cause, instead of appending the cause's message.
  const base = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.errWithCause },
  };
  if (usePretty) {
    return pino(base, pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}
