import type { WriteStream } from 'node:fs';
import type { Logger } from 'pino';

/** Phases reported through `onProgress`. */
export type ProvisionPhase = 'resolve' | 'fetch' | 'clone' | 'configure' | 'build' | 'done';

/** A progress report. */
export interface ProvisionProgress {
  phase: ProvisionPhase;
  /** Human-readable status line. */
  message: string;
  /** Build completion, 0–100, when known. */
  percent?: number;
}

/** State shared by the steps of one provisioning run (internal). */
export interface ProvisionContext {
  /** Cache root holding one directory per bundle version. */
  root: string;
  log: WriteStream;
  logPath: string;
  report: (progress: ProvisionProgress) => void;
  signal: AbortSignal | undefined;
  logger: Logger | undefined;
}
