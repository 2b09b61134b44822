import type { Command } from 'commander';
import type { CliIo } from '../cli-context.js';
import { parseDurationMs } from '../parse-options.js';
import {
  addSingleDeploymentOptions,
  deploymentNameFrom,
  runSingleDeployment,
  type SingleDeploymentFlags,
} from '../run-single-deployment.js';

interface AttachFlags extends SingleDeploymentFlags {
  model: string;
  host?: string;
  pull?: boolean;
  connectTimeout?: number;
}

/** `shic attach ollama --model …`: a foreground daemon attached to a running Ollama. */
export function registerAttachCommand(program: Command, io: CliIo): void {
  const attach = program
    .command('attach')
    .description('run a foreground daemon attached to a running service');
  const ollama = attach
    .command('ollama')
    .description('attach to an Ollama daemon (never started or stopped by shic) and serve it until Ctrl-C')
    .requiredOption('--model <name>', 'model, e.g. llama3.2 or qwen2.5:0.5b')
    .option(
      '--host <url>',
      'Ollama address in any OLLAMA_HOST form (default OLLAMA_HOST, else 127.0.0.1:11434)',
    )
    .option('--pull', 'pull the model when it is missing')
    .option(
      '--connect-timeout <duration>',
      'how long refused connections are retried before the attach fails with service_unreachable (default 5s)',
      parseDurationMs,
    )
    .option('--ttl <duration>', 'default lease TTL (ms, 30s, 5m)', parseDurationMs);
  addSingleDeploymentOptions(ollama).action(async (flags: AttachFlags, command: Command) => {
    const deployment = {
      backend: 'ollama',
      modelIdentity: flags.model,
      backendOptions: {
        ...(flags.host ? { rootUrl: flags.host } : {}),
        ...(flags.pull ? { pull: true } : {}),
        ...(flags.connectTimeout ? { connectTimeoutMs: flags.connectTimeout } : {}),
      },
    };
    const name = deploymentNameFrom(flags.model, 'ollama');
    await runSingleDeployment(name, deployment, flags, command, io, 'shic attach ollama');
  });
}
