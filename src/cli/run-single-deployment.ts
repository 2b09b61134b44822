import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Level } from 'pino';
import { parseConfigObject } from '../config/load-config.js';
import type { CliIo } from './cli-context.js';
import { LOG_LEVELS, parseLogLevel, parsePort } from './parse-options.js';
import { ALLOW_REMOTE_HELP, runForeground } from './run-foreground.js';

/** Flags every one-deployment foreground command (`spawn`, `attach`) shares. */
export interface SingleDeploymentFlags {
  /** Default lease TTL in ms; becomes the deployment's `lease.ttlMs`. @default the config default */
  ttl?: number;
  /** Control API interface. @default '127.0.0.1' */
  controlHost?: string;
  /** Accept a non-loopback `controlHost`. @default false */
  allowRemote?: boolean;
  /** Control API port. @default the config's `control.port` */
  controlPort?: number;
  logLevel?: Level | 'silent';
}

/** Adds the control API flags (`--control-host`, `--allow-remote`, `--control-port`, `--log-level`). */
export function addSingleDeploymentOptions(command: Command): Command {
  return command
    .option(
      '--control-host <host>',
      'control API interface (default 127.0.0.1; a non-loopback one needs --allow-remote)',
    )
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option('--control-port <port>', 'control API port', parsePort)
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join('|')}`, parseLogLevel);
}

/**
 * The deployment name for `raw` (a model name or alias): odd characters become `-` and a leading
 * non-alphanumeric run is dropped; `fallback` when nothing is left.
 */
export function deploymentNameFrom(raw: string, fallback: string): string {
  return raw.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || fallback;
}

/**
 * Runs the foreground daemon with the one deployment `name` (plus `lease.ttlMs` from `flags.ttl`), honouring
 * the global `--state-dir`. `fileName` names the command in config errors.
 * @throws InvalidConfigError when the deployment is invalid (nothing is started).
 */
export async function runSingleDeployment(
  name: string,
  deployment: Record<string, unknown>,
  flags: SingleDeploymentFlags,
  command: Command,
  io: CliIo,
  fileName: string,
): Promise<void> {
  const stateDir = command.optsWithGlobals().stateDir as string | undefined;
  const loaded = parseConfigObject(
    {
      ...(stateDir ? { stateDir: resolve(stateDir) } : {}),
      deployments: {
        [name]: { ...deployment, ...(flags.ttl ? { lease: { ttlMs: flags.ttl } } : {}) },
      },
    },
    { env: io.env, fileName },
  );
  await runForeground(
    loaded,
    {
      ...(flags.controlHost ? { host: flags.controlHost, hostFlag: '--control-host' } : {}),
      ...(flags.allowRemote ? { allowRemote: true } : {}),
      ...(flags.controlPort === undefined ? {} : { port: flags.controlPort }),
      ...(flags.logLevel ? { logLevel: flags.logLevel } : {}),
    },
    io,
  );
}
