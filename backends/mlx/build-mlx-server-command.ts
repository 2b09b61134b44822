/** What `buildMlxServerCommand` needs: the launcher choice and the server flags. */
export interface MlxServerCommandSpec {
  model: string;
  host: string;
  port: number;
  extraArgs?: string[];
  binaryPath?: string;
  pythonPath?: string;
  command?: string[];
}

/** A program and its argument array (never a shell line). */
export interface MlxServerCommand {
  command: string;
  args: string[];
}

/**
 * The `mlx_lm.server` command line, as an argument array: `--model <model> --host <host> --port <port>`,
 * then `extraArgs`, run by `binaryPath` (default `mlx_lm.server` from PATH), by `<pythonPath> -m
 * mlx_lm.server`, or appended to a launcher `command` prefix. Pure: touches nothing.
 */
export function buildMlxServerCommand(spec: MlxServerCommandSpec): MlxServerCommand {
  const flags = [
    '--model',
    spec.model,
    '--host',
    spec.host,
    '--port',
    String(spec.port),
    ...(spec.extraArgs ?? []),
  ];
  if (spec.command) {
    const [program, ...prefix] = spec.command;
    return { command: program!, args: [...prefix, ...flags] };
  }
  if (spec.pythonPath) return { command: spec.pythonPath, args: ['-m', 'mlx_lm.server', ...flags] };
  return { command: spec.binaryPath ?? 'mlx_lm.server', args: flags };
}
