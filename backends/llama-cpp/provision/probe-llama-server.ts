import { execa } from 'execa';

/**
 * Runs `binaryPath --version` and returns the version it reports (e.g. `1 (80fb11a)`), or `undefined` when the
 * binary is missing, not executable, or does not exit 0 within `timeoutMs`.
 * @param timeoutMs upper bound for the probe, in ms. @default 10000
 */
export async function probeLlamaServerVersion(
  binaryPath: string,
  timeoutMs = 10_000,
): Promise<string | undefined> {
  const result = await execa(binaryPath, ['--version'], {
    all: true,
    reject: false,
    stdin: 'ignore',
    timeout: timeoutMs,
  });
  if (result.failed) return undefined;
  const output = result.all ?? '';
  const version = /^version:\s*(.+)$/m.exec(output)?.[1]?.trim();
  return version ?? (output.split('\n')[0]?.trim() || 'unknown');
}
